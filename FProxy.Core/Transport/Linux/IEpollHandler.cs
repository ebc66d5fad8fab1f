namespace FProxy.Transport.Linux;

/// <summary>Something registered on an <see cref="EpollLoop"/>: told of its descriptors' events, on the loop's thread.</summary>
internal interface IEpollHandler
{
    /// <param name="kind">Which of the handler's descriptors (it chose the number when it registered).</param>
    /// <param name="events">The epoll event bits.</param>
    void OnEvents(int kind, uint events);
}
