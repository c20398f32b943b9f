namespace FunctionalAsymptotics.Models

open System
open FunctionalAsymptotics
open FunctionalAsymptotics.Asymptotics
open FunctionalAsymptotics.Estimation
open FunctionalAsymptotics.Simulation

/// A prior-art bound on the downstream excess risk, for comparison with the limit law (constants and logs
/// dropped, as the cited results state them up to constants).
type PriorArt =
    { /// The cited theorem.
      Reference: string
      /// The whole bound at the given `alpha`.
      Bound: float
      /// Its pre-training term (the coefficient of `alpha^-1`).
      PretrainTerm: float
      /// `PretrainTerm / E||L(Z)||^2`: how much larger the prior-art pre-training term is than the exact mean.
      ImprovementFactor: float }

/// The limit law of a model by one route, with the Monte Carlo standard error of `E||L(Z)||^2 = tr(V G)`
/// when the route estimates its moments (0 for exact routes).
type ModelLaw =
    { /// The route's quantities of Theorem 5.1 (`d_eff`, `d_base`, `sigma^2`, weights).
      Summary: AsymptoticSummary
      /// Standard error of `E||L(Z)||^2` (0 when exact).
      PretrainMeanStdErr: float }

/// A closed-form route of a model: its name (e.g. "closed", "paper") and the summary it computes.
type ClosedFormRoute =
    { /// The route name, as in `--route`.
      Route: string
      /// What it is (one line).
      Description: string
      /// Computes the summary.
      Compute: unit -> AsymptoticSummary }

/// A model: one value for every model, shipped or user-defined (docs/theory.md section 3). The required part
/// is the specification `Spec` (per-sample pre-training loss with optional derivatives, its sampler, the
/// symmetry group, `w*`, the representation `psi(x, w)` and downstream design, `theta*`, `sigma^2`);
/// everything else is optional and only makes the law faster or exact, or adds a comparison:
/// closed-form population moments (`Spec.Population`, used by the exact `horizontal` route), a descriptor
/// model (`descriptor` route), closed-form laws, a specialised moment provider (e.g. the Gaussian
/// mixture's quadrature-free Monte Carlo), a simulation adapter and a prior-art bound.
type Model<'Z> =
    { /// The specification.
      Spec: ModelSpec<'Z>
      /// The descriptor-manifold formulation (paper Section 6, Appendices H-I), when available.
      Descriptor: DescriptorModel option
      /// Closed-form routes (e.g. the corrected and the printed corollaries).
      ClosedForms: ClosedFormRoute list
      /// Specialised providers of the law's moments (route name, computation), for models whose moments are
      /// estimated faster by a model-specific method than by the generic engine.
      Specialised: (string * (unit -> ModelLaw)) list
      /// The simulation adapter at a given `alpha` (the whole two-stage pipeline, Proposition B.1).
      Simulation: (float -> PipelineModel) option
      /// The prior-art bound at `alpha`, given `E||L(Z)||^2`.
      PriorArt: (float -> float -> PriorArt) option }

/// A model with its sample type hidden: what the registry, the CLI and the report use.
type ModelInstance =
    { /// A readable name with the parameters (e.g. "spectral(d=6, k=2)").
      Name: string
      /// The routes this model offers, the default first.
      Routes: string list
      /// The law by a route (one of `Routes`); `InvalidArgumentException` for another.
      Law: string -> ModelLaw
      /// The simulation adapter at `alpha`, when the model has one.
      Simulation: (float -> PipelineModel) option
      /// The prior-art bound at `alpha` given `E||L(Z)||^2`, when the model has one.
      PriorArt: (float -> float -> PriorArt) option }

/// A registry entry: a named family of models with numeric parameters (the CLI's `--param name=value`).
type ModelEntry =
    { /// Registry name (`fa simulate NAME`).
      Name: string
      /// One-line description.
      Summary: string
      /// The accepted parameters with defaults.
      Parameters: ModelParameter list
      /// Builds the model from a full parameter map (every parameter present; see `ModelEntry.resolve`).
      Create: Map<string, float> -> ModelInstance }

/// One row of a route comparison (`fa spectral --compare`, the report's Corollaries table).
type RouteComparison =
    /// The route ran: the largest relative weight difference from the reported route
    /// (`AsymptoticSummary.weightDiscrepancy`; infinity when the numbers of weights differ), and its `E||L(Z)||^2`.
    | Compared of route: string * discrepancy: float * pretrainMean: float
    /// The route was not run at this size, and why.
    | NotRun of route: string * reason: string

/// Functions on models.
[<RequireQualifiedAccess>]
module Model =

    /// The generic route names: `horizontal` (exact population moments, `Spec.Population`), `descriptor` and
    /// `monte-carlo`.
    let private horizontalRoute = "horizontal"
    let private descriptorRoute = "descriptor"
    let private monteCarloRoute = "monte-carlo"

    /// A model with only its specification.
    let ofSpec (spec: ModelSpec<'Z>) : Model<'Z> =
        { Spec = spec; Descriptor = None; ClosedForms = []; Specialised = []; Simulation = None; PriorArt = None }

    /// A model of the paper's linear case studies (Sections 6.1-6.2): exact population moments in `spec`, a
    /// descriptor model, the corrected and the printed corollary (`closed route` for route "closed" and
    /// "paper"; `corollary` names it, e.g. "Corollary 6.3"), the simulation adapter and a prior-art bound
    /// `(reference, bound at alpha, pre-training term)`.
    let caseStudy (spec: ModelSpec<'Z>) (descriptor: DescriptorModel) (corollary: string) (closed: string -> AsymptoticSummary)
                  (simulation: float -> PipelineModel) (reference: string, bound: float -> float, pretrainTerm: float) : Model<'Z> =
        { Spec = spec
          Descriptor = Some descriptor
          ClosedForms =
            [ { Route = "closed"; Description = sprintf "corrected %s (docs/errata.md)" corollary; Compute = fun () -> closed "closed" }
              { Route = "paper"; Description = sprintf "%s as printed" corollary; Compute = fun () -> closed "paper" } ]
          Specialised = []
          Simulation = Some simulation
          PriorArt =
            Some(fun alpha pretrainMean ->
                { Reference = reference; Bound = bound alpha; PretrainTerm = pretrainTerm; ImprovementFactor = pretrainTerm / pretrainMean }) }

    /// The routes a model offers, the default first: the specialised providers, `horizontal` when the
    /// specification has closed-form population moments, `descriptor` when there is a descriptor model,
    /// `monte-carlo` (every model: the generic engine by seeded Monte Carlo, validated, with jackknife error
    /// bars; `monteCarloLaw` with `SpecLaw.defaultOptions`), then the closed forms.
    let routes (model: Model<'Z>) : string list =
        [ for name, _ in model.Specialised -> name
          if model.Spec.Population.IsSome then yield horizontalRoute
          if model.Descriptor.IsSome then yield descriptorRoute
          yield monteCarloRoute
          for c in model.ClosedForms -> c.Route ]

    /// The generic Monte Carlo law of a model (route `monte-carlo`): at real dimensions
    /// (`LowRankMonteCarlo.tryEstimate`: a linear-Gaussian representation with non-singular `Sigma(w*)` and a
    /// closed-form population Hessian-vector product) the score second moments by seeded sampling along the
    /// `r` solutions `H_h^-1 R^T`; otherwise `SpecLaw.monteCarlo` (score and Hessian by sampling, in an
    /// explicit horizontal basis). Every number with jackknife error bars; `progress` receives status lines
    /// (the matrix-free route only).
    let monteCarloLaw (options: MonteCarloLawOptions) (progress: string -> unit) (model: Model<'Z>) : MonteCarloLaw =
        match LowRankMonteCarlo.tryEstimate options progress model.Spec with
        | Some law -> law
        | None -> SpecLaw.monteCarlo options model.Spec

    /// The law by `route` (Theorem 5.1): the exact horizontal-lift route (`TwoStage.horizontalCancellable`),
    /// the descriptor route (`DescriptorRoute.compute`), the generic Monte Carlo route (`monteCarloLaw` with
    /// `SpecLaw.defaultOptions`),
    /// a closed form, or a specialised provider. The horizontal and Monte Carlo routes report to `progress`
    /// and stop with `OperationCanceledException` once `cancel` is set. For a new model, `SpecLaw.exact` and `SpecLaw.monteCarlo`
    /// validate the specification first (docs/your-own-model.md); the shipped models are validated by the tests.
    let lawWith (cancel: System.Threading.CancellationToken) (progress: string -> unit) (route: string) (model: Model<'Z>) : ModelLaw =
        let exact s = { Summary = s; PretrainMeanStdErr = 0.0 }
        match model.Specialised |> List.tryFind (fun (name, _) -> name = route), model.Descriptor with
        | Some (_, provide), _ -> provide ()
        | None, _ when route = horizontalRoute && model.Spec.Population.IsSome -> exact (TwoStage.horizontalCancellable cancel progress model.Spec)
        | None, Some descriptor when route = descriptorRoute -> exact (DescriptorRoute.compute model.Spec descriptor)
        | None, _ when route = monteCarloRoute ->
            let r = monteCarloLaw { SpecLaw.defaultOptions with Cancellation = cancel } progress model
            { Summary = r.Summary; PretrainMeanStdErr = r.PretrainMean.StandardError }
        | None, _ ->
            match model.ClosedForms |> List.tryFind (fun c -> c.Route = route) with
            | Some c -> exact (c.Compute())
            | None -> Check.fail "route" (sprintf "model %s offers the routes %s, got '%s'" model.Spec.Name (String.Join(", ", routes model)) route)

    /// The law by `route` without cancellation or progress reports.
    let law (route: string) (model: Model<'Z>) : ModelLaw = lawWith System.Threading.CancellationToken.None ignore route model

    /// Why a route is not offered for this model at its size (`None`: it is): the descriptor route above
    /// `DescriptorRoute.maxDimension` (`DescriptorRoute.notOffered`).
    let notOffered (route: string) (model: Model<'Z>) : string option =
        match model.Descriptor with
        | Some descriptor when route = descriptorRoute -> DescriptorRoute.notOffered descriptor
        | _ -> None

    /// The model with its sample type hidden.
    let instance (model: Model<'Z>) : ModelInstance =
        { Name = model.Spec.Name
          Routes = routes model
          Law = fun route -> law route model
          Simulation = model.Simulation
          PriorArt = model.PriorArt }

/// Functions on registry entries.
[<RequireQualifiedAccess>]
module ModelEntry =

    /// The full parameter map: defaults overridden by `given` (`ModelParameter.resolve`).
    let resolve (entry: ModelEntry) (given: (string * float) list) : Map<string, float> =
        ModelParameter.resolve entry.Name entry.Parameters given

    /// The simulation factory of an entry (for `fa simulate`): builds the model and takes its adapter;
    /// `InvalidArgumentException` when the model has no simulation adapter.
    let simulation (entry: ModelEntry) : ModelFactory =
        { Name = entry.Name
          Summary = entry.Summary
          Parameters = entry.Parameters
          Create =
            fun alpha p ->
                match (entry.Create p).Simulation with
                | Some sim -> sim alpha
                | None -> Check.fail "model" (sprintf "model '%s' has no simulation adapter" entry.Name) }

/// Route comparisons.
[<RequireQualifiedAccess>]
module RouteComparison =

    /// The comparison with `reported` of every route in `routes` other than the reported one: `skip route`
    /// gives the reason a route is not run (`None`: run it with `lawOf`).
    let against (routes: string list) (reported: AsymptoticSummary) (skip: string -> string option) (lawOf: string -> AsymptoticSummary) : RouteComparison[] =
        [| for r in routes do
             if r <> reported.Route then
                 match skip r with
                 | Some reason -> yield NotRun(r, reason)
                 | None ->
                     let o = lawOf r
                     yield Compared(r, AsymptoticSummary.weightDiscrepancy reported o, AsymptoticSummary.pretrainMean o) |]
