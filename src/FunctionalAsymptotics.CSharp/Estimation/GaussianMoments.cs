using Microsoft.FSharp.Collections;
using MathNet.Numerics.LinearAlgebra;
using FEst = FunctionalAsymptotics.Estimation;
using Conv = FunctionalAsymptotics.CSharp.Geometry.Convert;

namespace FunctionalAsymptotics.CSharp.Estimation;

/// <summary>One term c * prod_i (xi^T Q_i xi) of a polynomial in quadratic forms of xi ~ N(0, I_n); no forms is the constant c.</summary>
public sealed class QuadraticTerm
{
    /// <summary>The term c * prod_i (xi^T Q_i xi) with symmetric n x n matrices Q_i.</summary>
    public QuadraticTerm(double coefficient, params double[][,] forms)
    {
        Coefficient = coefficient;
        Forms = Conv.NotNull(forms, nameof(forms)).Select(f => (double[,])Conv.NotNull(f, nameof(forms)).Clone()).ToArray();
    }
    /// <summary>The coefficient c.</summary>
    public double Coefficient { get; }
    /// <summary>The matrices Q_i.</summary>
    public double[][,] Forms { get; }

    internal FEst.QuadraticTerm Core =>
        new(Coefficient, Forms.Select(f => Matrix<double>.Build.DenseOfArray(f)).ToArray());
}

/// <summary>Exact moments of polynomials in Gaussian quadratic forms (Isserlis' theorem): the helper for a
/// model's closed-form score covariance E[grad l grad l^T] when the per-sample gradient is such a polynomial.</summary>
public static class GaussianMoments
{
    /// <summary>E[prod_i xi^T Q_i xi] for xi ~ N(0, I_n).</summary>
    public static double MomentOfProduct(params double[][,] forms) =>
        FEst.GaussianMoments.momentOfProduct(Conv.NotNull(forms, nameof(forms)).Select(f => Conv.ToMatrix(f, nameof(forms))).ToArray());

    /// <summary>E[p] of a polynomial given as a sum of terms.</summary>
    public static double Expectation(params QuadraticTerm[] polynomial) =>
        FEst.GaussianMoments.expectation(ListModule.OfSeq(Conv.NotNull(polynomial, nameof(polynomial)).Select(t => t.Core)));

    /// <summary>The uncentred second-moment matrix E[p_i p_j] of a family of polynomials (exact, symmetric).</summary>
    public static double[,] SecondMoments(params QuadraticTerm[][] polynomials) =>
        FEst.GaussianMoments.secondMoments(
            Conv.NotNull(polynomials, nameof(polynomials)).Select(p => ListModule.OfSeq(Conv.NotNull(p, nameof(polynomials)).Select(t => t.Core))).ToArray()).ToArray();
}
