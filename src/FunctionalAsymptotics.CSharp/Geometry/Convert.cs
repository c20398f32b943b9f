using MathNet.Numerics.LinearAlgebra;

namespace FunctionalAsymptotics.CSharp.Geometry;

/// <summary>Conversions between the C# surface (<c>double[,]</c>) and the core's dense matrices.</summary>
internal static class Convert
{
    internal static Matrix<double> ToMatrix(double[,] a, string name)
    {
        ArgumentNullException.ThrowIfNull(a, name);
        return Matrix<double>.Build.DenseOfArray(a);
    }

    internal static double[,] ToArray(Matrix<double> m) => m.ToArray();

    internal static double[][,] ToArrays(Matrix<double>[] ms)
    {
        var result = new double[ms.Length][,];
        for (int i = 0; i < ms.Length; i++) result[i] = ms[i].ToArray();
        return result;
    }

    internal static T NotNull<T>(T? value, string name) where T : class
    {
        ArgumentNullException.ThrowIfNull(value, name);
        return value;
    }
}
