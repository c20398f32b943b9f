using Microsoft.FSharp.Core;
using MathNet.Numerics.LinearAlgebra;
using FAction = FunctionalAsymptotics.Groups.GroupAction;
using FActionOps = FunctionalAsymptotics.Groups.GroupActionModule;
using FDescriptor = FunctionalAsymptotics.Groups.Descriptor;
using FDescriptorOps = FunctionalAsymptotics.Groups.DescriptorModule;

namespace FunctionalAsymptotics.CSharp.Geometry;

/// <summary>
/// A compact matrix group acting on a parameter space of <c>PointRows x PointCols</c> matrices (paper
/// Section 4, Appendix E). Group elements are orthogonal (or permutation) matrices of size
/// <see cref="ElementSize"/>; <see cref="Act"/> is a left action.
/// </summary>
public sealed class GroupAction
{
    internal FAction Core { get; }

    internal GroupAction(FAction core) => Core = core;

    /// <summary>O(k) acting on A (k x d) from the left, g.A = g A; rho(g) = g (spectral model).</summary>
    public static GroupAction OrthogonalLeft(int k, int d) => new(FActionOps.orthogonalLeft(k, d));

    /// <summary>O(k) acting on A (d x k) from the right, g.A = A g^T; rho(g) = g (factor model).</summary>
    public static GroupAction OrthogonalRight(int d, int k) => new(FActionOps.orthogonalRight(d, k));

    /// <summary>S_K permuting the K columns of U (d x K) and K feature blocks of length featureBlock (mixture model).</summary>
    public static GroupAction PermutationBlocks(int d, int blocks, int featureBlock) => new(FActionOps.permutationBlocks(d, blocks, featureBlock));

    /// <summary>A readable name.</summary>
    public string Name => Core.Name;
    /// <summary>Rows of a parameter point.</summary>
    public int PointRows => Core.PointRows;
    /// <summary>Columns of a parameter point.</summary>
    public int PointCols => Core.PointCols;
    /// <summary>Size of the group-element matrices.</summary>
    public int ElementSize => Core.ElementSize;
    /// <summary>Dimension p of the feature space rho acts on.</summary>
    public int FeatureDimension => Core.FeatureDimension;
    /// <summary>Dimension of the Lie algebra (0 for a finite group).</summary>
    public int LieAlgebraDimension => Core.Generators.Length;

    private static Matrix<double> M(double[,] a, string name) => Convert.ToMatrix(a, name);

    /// <summary>The action g.w.</summary>
    public double[,] Act(double[,] g, double[,] w) => FActionOps.act(Core, M(g, nameof(g)), M(w, nameof(w))).ToArray();

    /// <summary>The representation rho(g) in O(p).</summary>
    public double[,] Rho(double[,] g) => FActionOps.rho(Core, M(g, nameof(g))).ToArray();

    /// <summary>An orthonormal basis of the vertical space (tangent of the orbit) at w.</summary>
    public double[][,] VerticalBasis(double[,] w) => Convert.ToArrays(FActionOps.verticalBasis(Core, M(w, nameof(w))));

    /// <summary>An orthonormal basis of the horizontal space (orthogonal complement of the vertical space) at w.</summary>
    public double[][,] HorizontalBasis(double[,] w) => Convert.ToArrays(FActionOps.horizontalBasis(Core, M(w, nameof(w))));

    /// <summary>Orthogonal projection of v onto the horizontal space at w.</summary>
    public double[,] HorizontalProject(double[,] w, double[,] v) => FActionOps.horizontalProject(Core, M(w, nameof(w)), M(v, nameof(v))).ToArray();

    /// <summary>Orthogonal projection of v onto the vertical space at w.</summary>
    public double[,] VerticalProject(double[,] w, double[,] v) => FActionOps.verticalProject(Core, M(w, nameof(w)), M(v, nameof(v))).ToArray();

    /// <summary>Aligns w to a reference within its orbit (Procrustes for O(k), Hungarian assignment for S_K).</summary>
    public AlignmentResult Align(double[,] w, double[,] reference)
    {
        var a = FActionOps.align(Core, M(w, nameof(w)), M(reference, nameof(reference)));
        return new AlignmentResult(a.Element.ToArray(), a.Aligned.ToArray(), a.Distance);
    }

    /// <summary>A random group element, reproducible from <paramref name="seed"/>.</summary>
    public double[,] RandomElement(int seed) => Core.RandomElement.Invoke(new Random(seed)).ToArray();

    /// <inheritdoc/>
    public override string ToString() => Name;
}

/// <summary>The result of aligning a point to a reference within its orbit.</summary>
public sealed class AlignmentResult
{
    internal AlignmentResult(double[,] element, double[,] aligned, double distance)
    {
        Element = element;
        Aligned = aligned;
        Distance = distance;
    }

    /// <summary>The optimal group element g*.</summary>
    public double[,] Element { get; }
    /// <summary>The aligned representative g*.w.</summary>
    public double[,] Aligned { get; }
    /// <summary>||g*.w - reference||_F.</summary>
    public double Distance { get; }
}

/// <summary>A descriptor D (constant on orbits, locally separating), its differential and a local section.</summary>
public sealed class Descriptor
{
    internal FDescriptor Core { get; }

    internal Descriptor(FDescriptor core) => Core = core;

    /// <summary>Gram descriptor A -> A^T A for O(k) acting from the left on k x d matrices; section anchored at <paramref name="reference"/>.</summary>
    public static Descriptor GramLeft(double[,] reference) => new(FDescriptorOps.gramLeft(Convert.ToMatrix(reference, nameof(reference))));

    /// <summary>Gram descriptor A -> A A^T for O(k) acting from the right on d x k matrices.</summary>
    public static Descriptor GramRight(double[,] reference) => new(FDescriptorOps.gramRight(Convert.ToMatrix(reference, nameof(reference))));

    /// <summary>Canonical (lexicographic) column ordering for S_K; section by optimal assignment to <paramref name="reference"/>.</summary>
    public static Descriptor CanonicalOrdering(double[,] reference) => new(FDescriptorOps.canonicalOrdering(Convert.ToMatrix(reference, nameof(reference))));

    /// <summary>A readable name.</summary>
    public string Name => Core.Name;

    /// <summary>D(w).</summary>
    public double[,] Map(double[,] w) => FDescriptorOps.map(Core, Convert.ToMatrix(w, nameof(w))).ToArray();

    /// <summary>dD(w)[dw].</summary>
    public double[,] Differential(double[,] w, double[,] dw) =>
        Core.Differential.Invoke(Convert.ToMatrix(w, nameof(w))).Invoke(Convert.ToMatrix(dw, nameof(dw))).ToArray();

    /// <summary>The local section s(Omega), with D(s(Omega)) = Omega.</summary>
    public double[,] Section(double[,] omega) => FDescriptorOps.section(Core, Convert.ToMatrix(omega, nameof(omega))).ToArray();
}
