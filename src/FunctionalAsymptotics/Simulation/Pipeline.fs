namespace FunctionalAsymptotics.Simulation

open FunctionalAsymptotics.Asymptotics

/// What a model's replicate function receives: the sample sizes and its own deterministic random stream.
type ReplicateContext =
    {
        /// Downstream sample size `n`.
        N: int
        /// Pre-training sample size `m = floor(alpha n)`.
        M: int
        /// Replicate index `r` (0-based) at this `n`.
        Replicate: int
        /// The stream derived from `(seed, n, r)`; the replicate's only source of randomness.
        Rng: ReplicateRng
    }

/// One replicate of the two-stage pipeline: `E_mn = n (R - sigma^2)` and its three parts from the exact
/// conditional risk (Proposition B.1, docs/theory.md section 5), each scaled by `n`.
[<Struct>]
type ReplicateOutcome =
    {
        /// `E_mn = n (R - sigma^2) = Pretrain + Leak + Variance`.
        Total: float
        /// `n Rep(Omega_m)`, `Rep = ||(I - Pi_Omega) f_star||^2` (the pre-training part).
        Pretrain: float
        /// `n Leak_n(Omega_m)`, `Leak_n = ||Pi_{Omega,n} f_star - Pi_Omega f_star||^2`.
        Leak: float
        /// `sigma^2 tr(Sigma(Omega) Sigma_n(Omega)^+)`, the OLS variance term times `n`.
        Variance: float
    }

/// Functions on replicate outcomes.
[<RequireQualifiedAccess>]
module ReplicateOutcome =
    /// The outcome of a replicate at downstream size `n` from the exact decomposition of Proposition B.1:
    /// each part scaled by `n`.
    let ofRisk (n: int) (risk: RiskDecomposition) : ReplicateOutcome =
        let nf = float n
        { Total = nf * (risk.Rep + risk.Leak + risk.Var)
          Pretrain = nf * risk.Rep
          Leak = nf * risk.Leak
          Variance = nf * risk.Var }

/// A model the simulation engine can run: its limit law at the chosen `alpha` and one replicate of the
/// whole pipeline (draw pre-training data, fit, draw the design, compute Proposition B.1 exactly).
type PipelineModel =
    {
        /// The model's registry name (e.g. "toy", "spectral").
        Name: string
        /// The limit law `E_alpha = sigma^2 d_eff + alpha^-1 ||L(Z)||^2` of Theorem 5.1 at this `alpha`.
        Law: LimitLaw
        /// `sigma^2 d_eff`, the in-probability limit of the variance part.
        SigmaSquaredDEff: float
        /// The largest Monte Carlo standard error of the population moments (`Sigma(Omega)`,
        /// `E[phi f_star]`, `||f_star||^2`) the model computed once, by seeded Monte Carlo, for use in every
        /// replicate; `0.0` when they are exact (closed form), as for linear features under a Gaussian design.
        PopulationMomentError: float
        /// One replicate. Must be a deterministic function of the context (its stream included) and
        /// thread-safe (replicates run in parallel).
        Replicate: ReplicateContext -> ReplicateOutcome
    }

/// Functions on pipeline models.
[<RequireQualifiedAccess>]
module PipelineModel =
    /// A pipeline whose population moments are exact (`PopulationMomentError = 0`): the limit law of
    /// `summary` at `alpha` (Theorem 5.1), `sigma^2 d_eff` from it, and the replicate function.
    let exact (name: string) (alpha: float) (summary: AsymptoticSummary) (replicate: ReplicateContext -> ReplicateOutcome) : PipelineModel =
        { Name = name
          Law = AsymptoticSummary.limitLaw alpha summary
          SigmaSquaredDEff = summary.Sigma2 * float summary.DEff
          PopulationMomentError = 0.0
          Replicate = replicate }

/// A numeric model parameter with its default and meaning (the CLI shows these in the help).
type ModelParameter =
    {
        /// Name, as in `--param name=value`.
        Name: string
        /// Default value.
        Default: float
        /// What it means.
        Description: string
    }

/// A registry entry: how to build a `PipelineModel` from `alpha` and numeric parameters.
type ModelFactory =
    {
        /// Registry name.
        Name: string
        /// One-line description.
        Summary: string
        /// The accepted parameters (others are rejected).
        Parameters: ModelParameter list
        /// Builds the model from `alpha` and a full parameter map (every parameter present).
        Create: float -> Map<string, float> -> PipelineModel
    }

/// Functions on model parameters.
[<RequireQualifiedAccess>]
module ModelParameter =
    /// The full parameter map of model `model` with parameters `parameters`: defaults overridden by `given`.
    /// An unknown name raises `InvalidArgumentException` listing the accepted ones.
    let resolve (model: string) (parameters: ModelParameter list) (given: (string * float) list) : Map<string, float> =
        let known = parameters |> List.map (fun p -> p.Name) |> Set.ofList
        for name, _ in given do
            if not (known.Contains name) then
                raise (FunctionalAsymptotics.InvalidArgumentException(
                    "param", sprintf "model '%s' has no parameter '%s' (accepted: %s)" model name (String.concat ", " known)))
        let defaults = parameters |> List.map (fun p -> p.Name, p.Default) |> Map.ofList
        given |> List.fold (fun acc (k, v) -> Map.add k v acc) defaults

    /// A whole-number parameter in `[lo, hi]`; `InvalidArgumentException` naming it otherwise.
    let whole (name: string) (lo: int) (hi: int) (x: float) : int =
        if not (System.Double.IsFinite x) || x <> System.Math.Round x || x < float lo || x > float hi then
            raise (FunctionalAsymptotics.InvalidArgumentException(name, sprintf "must be a whole number in [%d, %d], got %g" lo hi x))
        int x

/// Functions on model factories.
[<RequireQualifiedAccess>]
module ModelFactory =
    /// The full parameter map: defaults overridden by `given` (`ModelParameter.resolve`).
    let resolve (factory: ModelFactory) (given: (string * float) list) : Map<string, float> =
        ModelParameter.resolve factory.Name factory.Parameters given
