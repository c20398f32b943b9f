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
        { Spec = Factor.spec cfg
          Descriptor = Some(Factor.descriptorModel cfg)
          ClosedForms =
            [ { Route = "closed"; Description = "corrected Corollary 6.4 (docs/errata.md)"; Compute = fun () -> Factor.closedSummary "closed" cfg }
              { Route = "paper"; Description = "Corollary 6.4 as printed"; Compute = fun () -> Factor.closedSummary "paper" cfg } ]
          Specialised = []
          Simulation = Some(FactorPipeline.create cfg)
          PriorArt =
            Some(fun alpha pretrainMean ->
                { Reference = "Ge et al. 2024, Thm 4.4"
                  Bound = Factor.geBound cfg alpha
                  PretrainTerm = Factor.gePretrainTerm cfg
                  ImprovementFactor = Factor.geImprovement cfg pretrainMean }) }

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
