namespace FunctionalAsymptotics.Groups

/// Exact optimal assignment (linear sum assignment problem).
[<RequireQualifiedAccess>]
module Assignment =

    /// The Hungarian algorithm with potentials (Kuhn–Munkres, in the O(n^3) shortest-augmenting-path
    /// form): returns `assign` with `assign.[i]` the column given to row `i`, minimising
    /// `sum_i cost.[i, assign.[i]]` over all permutations, exactly. `cost` must be square
    /// (`DimensionMismatchException`) and finite (`NonFiniteException`, row-major index).
    val hungarian: cost: float[,] -> int[]
