namespace FunctionalAsymptotics.Kernels;
/// <summary>Placeholder.</summary>
public static class Placeholder { }
