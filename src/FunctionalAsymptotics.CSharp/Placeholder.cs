namespace FunctionalAsymptotics.CSharp;
/// <summary>Placeholder.</summary>
public static class Placeholder { }
