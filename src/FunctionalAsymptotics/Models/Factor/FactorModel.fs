namespace FunctionalAsymptotics.Models

open FunctionalAsymptotics.Simulation

/// The linear factor model (paper Section 6.2, Appendix I; docs/case-studies.md §2) as a `Model`: its
/// specification with exact Gaussian population moments (route `horizontal`), the descriptor model
/// (route `descriptor`), the corrected and the printed Corollary 6.4 (routes `closed`, `paper`;
/// docs/errata.md), the simulation adapter and the prior-art bound of Ge et al. (2024, Thm 4.4).
[<RequireQualifiedAccess>]
module FactorModel =

    /// The model of a configuration.
    let create (cfg: FactorConfig) : Model<float[]> =
        Model.caseStudy (Factor.spec cfg) (Factor.descriptorModel cfg) "Corollary 6.4" (fun route -> Factor.closedSummary route cfg)
            (FactorPipeline.create cfg) ("Ge et al. 2024, Thm 4.4", Factor.geBound cfg, Factor.gePretrainTerm cfg)

    /// Registry entry `factor` (parameters d, k, seed, sigma-nu2, beta; loadings `Factor.drawLoadings seed d k`,
    /// `beta* = (beta, .., beta)`).
    let entry : ModelEntry =
        { Name = "factor"
          Summary = "linear factor model (Section 6.2), loadings N(0,1) from a seed, beta* = (beta, .., beta); law by the horizontal route"
          Parameters =
            [ { Name = "d"; Default = 8.0; Description = "ambient dimension" }
              { Name = "k"; Default = 2.0; Description = "number of factors, 1 <= k < d" }
              { Name = "seed"; Default = 1.0; Description = "seed of the loadings (Factor.drawLoadings)" }
              { Name = "sigma-nu2"; Default = 1.0; Description = "label noise variance sigma_nu^2" }
              { Name = "beta"; Default = 1.0; Description = "every entry of beta*" } ]
          Create =
            fun p ->
                let d = ModelParameter.whole "d" 2 1_000_000 p.["d"]
                let k = ModelParameter.whole "k" 1 (d - 1) p.["k"]
                let seed = ModelParameter.whole "seed" 0 System.Int32.MaxValue p.["seed"]
                let cfg = { Loadings = Factor.drawLoadings seed d k; Beta = Array.create k p.["beta"]; SigmaNu2 = p.["sigma-nu2"] }
                Factor.validate cfg
                create cfg |> Model.instance }
