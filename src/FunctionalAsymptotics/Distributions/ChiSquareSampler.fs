namespace FunctionalAsymptotics.Distributions

/// Seeded sampling of weighted sums of independent chi-squares (to be replaced by the kernel-backed sampler).
module ChiSquareSampler =
    /// Fills `destination` with independent draws of `sum_j w_j chi^2_{k_j}(lambda_j)`; the same seed gives
    /// the same bits whatever the thread count.
    let fill (seed: uint64) (weights: float[]) (dofs: int[]) (noncentralities: float[]) (destination: float[]) : unit =
        raise (System.NotImplementedException())
