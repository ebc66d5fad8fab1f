using FProxy.Balancing;

namespace EmbeddedProxy;

/// <summary>
/// Active-passive: every connection goes to the first available target; the others take over only
/// when it is down (FProxy makes a strategy per set of available targets, and tries the next index
/// when a connect fails). Thread-safe and allocation-free, as Next runs per connection.
/// </summary>
internal sealed class PreferFirstStrategy : IStrategy
{
    public int Next(in StrategyContext context) => 0;
}
