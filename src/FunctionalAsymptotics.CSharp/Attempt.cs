using System.Diagnostics.CodeAnalysis;

namespace FunctionalAsymptotics.CSharp;

/// <summary>The body of the facade's <c>TryCreate</c> methods: run a factory, turn an argument error into its message.</summary>
internal static class Attempt
{
    /// <summary>Runs <paramref name="create"/>; on an <see cref="ArgumentException"/> (the core's
    /// <c>InvalidArgumentException</c> and its kin) returns false with the message instead of throwing.</summary>
    public static bool Create<T>(Func<T> create, [NotNullWhen(true)] out T? result, [NotNullWhen(false)] out string? error)
        where T : class
    {
        try
        {
            result = create();
            error = null;
            return true;
        }
        catch (ArgumentException e)
        {
            result = null;
            error = e.Message;
            return false;
        }
    }
}
