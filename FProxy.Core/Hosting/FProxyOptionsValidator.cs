using FProxy.Dns;
using Microsoft.Extensions.Options;

namespace FProxy.Hosting;

/// <summary>Checks <see cref="FProxyOptions"/> at start; every message names the setting.</summary>
internal sealed class FProxyOptionsValidator : IValidateOptions<FProxyOptions>
{
    public ValidateOptionsResult Validate(string? name, FProxyOptions options)
    {
        var errors = new List<string>();
        if (string.IsNullOrWhiteSpace(options.ConfigPath))
        {
            errors.Add($"{nameof(FProxyOptions.ConfigPath)} is empty");
        }

        if (options.ShutdownDelay < TimeSpan.Zero)
        {
            errors.Add($"{nameof(FProxyOptions.ShutdownDelay)} must not be negative (it is {options.ShutdownDelay})");
        }

        if (!Enum.IsDefined(options.Transport))
        {
            errors.Add($"{nameof(FProxyOptions.Transport)} {options.Transport} is not a transport (Auto, Epoll or Sockets)");
        }
        else if (options.Transport == Daemon.ProxyTransport.Epoll && !Transport.Linux.EpollTransport.IsSupported)
        {
            errors.Add($"{nameof(FProxyOptions.Transport)} Epoll needs Linux on x64 or arm64 (use Auto or Sockets)");
        }

        if (options.IoThreads is < 1 or > 1024)
        {
            errors.Add($"{nameof(FProxyOptions.IoThreads)} must be 1 to 1024 (it is {options.IoThreads})");
        }

        try
        {
            _ = DnsOptions.ParseServers(options.DnsServers);
        }
        catch (FormatException e)
        {
            errors.Add($"{nameof(FProxyOptions.DnsServers)}: {e.Message.Replace(DnsOptions.ServersVariable + ": ", string.Empty, StringComparison.Ordinal)}");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
