namespace FunctionalAsymptotics.Models

open FunctionalAsymptotics.Simulation

/// The spectral contrastive model (paper Section 6.1, Appendix H; docs/case-studies.md §1) as a `Model`:
/// its specification with exact Gaussian population moments (route `horizontal`), the descriptor model on
/// `FixedRankPsd(d, k)` (route `descriptor`), the corrected and the printed Corollary 6.3 (routes `closed`,
/// `paper`; docs/errata.md), the simulation adapter and the prior-art bound of Cabannes et al. (2023, Thm 4).
[<RequireQualifiedAccess>]
module SpectralModel =

    /// The model of a configuration.
    let create (cfg: SpectralConfig) : Model<float[]> =
        Model.caseStudy (Spectral.spec cfg) (Spectral.descriptorModel cfg) "Corollary 6.3 ((H.39))" (fun route -> Spectral.closedSummary route cfg)
            (SpectralPipeline.create cfg) ("Cabannes et al. 2023, Thm 4", Spectral.cabannesBound cfg, Spectral.cabannesPretrainTerm cfg)

    /// Registry entry `spectral` (parameters d, k, sigma2; `C = diag(1, 1/2, .., 1/d)`, `Sigma_pre = I`,
    /// `beta* = 1`: `Spectral.defaultConfig`).
    let entry : ModelEntry =
        { Name = "spectral"
          Summary = "linear spectral contrastive model (Section 6.1), C = diag(1, 1/2, .., 1/d), beta* = 1; law by the horizontal route"
          Parameters =
            [ { Name = "d"; Default = 6.0; Description = "ambient dimension" }
              { Name = "k"; Default = 2.0; Description = "representation dimension, 1 <= k < d" }
              { Name = "sigma2"; Default = 1.0; Description = "downstream noise variance" } ]
          Create =
            fun p ->
                let d = ModelParameter.whole "d" 2 1_000_000 p.["d"]
                let k = ModelParameter.whole "k" 1 (d - 1) p.["k"]
                let sigma2 = p.["sigma2"]
                if not (sigma2 >= 0.0) || System.Double.IsInfinity sigma2 then
                    FunctionalAsymptotics.Check.fail "sigma2" (sprintf "must be finite and >= 0, got %g" sigma2)
                create (Spectral.defaultConfig d k sigma2) |> Model.instance }
