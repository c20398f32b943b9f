/// The two generic routes (horizontal lift, descriptor manifold) against each other and against the
/// closed forms; the paper's printed corollaries; irregular-case detection; Proposition B.1.
module FunctionalAsymptotics.Tests.Asymptotics.TwoStageTests

open System
open Expecto
open MathNet.Numerics.LinearAlgebra
open MathNet.Numerics.LinearAlgebra.Double
open FunctionalAsymptotics
open FunctionalAsymptotics.Estimation
open FunctionalAsymptotics.Asymptotics
open FunctionalAsymptotics.Models

let spectralConfigs =
    [ Spectral.defaultConfig 6 2 1.0
      Spectral.defaultConfig 4 1 1.0
      Spectral.defaultConfig 5 3 0.5
      { D = 5; K = 2; SigmaPre = Array.create 5 1.0; C = [| 0.9; 0.6; 0.5; 0.2; 0.1 |]; Beta = [| 1.0; -2.0 |]; Sigma2 = 2.0 }
      // Negative eigenvalues beyond the gap are allowed by Assumption 6.1 (c_k > max(c_{k+1}, 0)).
      { D = 5; K = 2; SigmaPre = Array.create 5 1.0; C = [| 0.8; 0.5; -0.3; -0.6; -0.9 |]; Beta = [| 0.5; 1.5 |]; Sigma2 = 1.0 } ]

let factorConfigs =
    let m (rows: float list list) = DenseMatrix.OfRowArrays(rows |> List.map Array.ofList |> Array.ofList) :> Matrix<float>
    [ { Loadings = Factor.drawLoadings 1 8 2; Beta = [| 1.0; 1.0 |]; SigmaNu2 = 1.0 }
      { Loadings = m [ [ 2.0; 0.0 ]; [ 0.0; 1.0 ]; [ 0.0; 0.0 ]; [ 0.0; 0.0 ]; [ 0.0; 0.0 ]; [ 0.0; 0.0 ] ]; Beta = [| 1.0; 1.0 |]; SigmaNu2 = 0.5 }
      { Loadings = m [ [ 0.5; 0.0 ]; [ 0.0; 3.0 ]; [ 1.0; 0.0 ]; [ 0.0; 0.0 ]; [ 0.0; 0.0 ] ]; Beta = [| 2.0; -1.0 |]; SigmaNu2 = 0.25 }
      { Loadings = Factor.drawLoadings 5 7 3; Beta = [| 0.5; -1.0; 1.5 |]; SigmaNu2 = 1.0 } ]

let agree (tol: float) (a: AsymptoticSummary) (b: AsymptoticSummary) =
    let disc = AsymptoticSummary.weightDiscrepancy a b
    Expect.isLessThan disc tol (sprintf "%s vs %s: weights %A vs %A (discrepancy %g)" a.Route b.Route a.Weights b.Weights disc)
    Expect.equal a.DEff b.DEff "d_eff"
    Expect.equal a.DBase b.DBase "d_base"

let tests =
    testList "Asymptotics.TwoStage" [
        testCase "spectral: horizontal, descriptor and closed routes agree to 1e-8 relative (5 configurations)" (fun () ->
            for cfg in spectralConfigs do
                let sp = Spectral.spec cfg
                let h = TwoStage.horizontal sp
                let dsc = DescriptorRoute.compute sp (Spectral.descriptorModel cfg)
                let cl = Spectral.closedSummary "closed" cfg
                agree 1e-8 h dsc
                agree 1e-8 h cl
                Expect.equal h.DEff cfg.K "d_eff = k"
                Expect.equal h.DBase cfg.D "d_base = d")
        testCase "spectral: the exact rationals of the independent mpmath check (errata Table 1)" (fun () ->
            let h = TwoStage.horizontal (Spectral.spec (Spectral.defaultConfig 4 1 1.0))
            Array.iter2 (fun a b -> Expect.floatClose Accuracy.veryHigh a b "weight") h.Weights [| 6.0; 27.0 / 8.0; 8.0 / 3.0 |]
            let h2 = TwoStage.horizontal (Spectral.spec (Spectral.defaultConfig 6 2 1.0))
            Array.iter2 (fun a b -> Expect.isLessThan (abs (a - b)) 1e-10 "weight") h2.Weights [| 26.15625; 12.88888888889; 9.483506944444; 7.965 |]
            Expect.isLessThan (abs (AsymptoticSummary.pretrainMean h2 - 56.49364583333)) 1e-9 "E||L(Z)||^2")
        testCase "spectral, general diagonal Sigma_pre (App. H.7): routes agree with the corrected (H.39) and the independent mpmath numbers; printed (H.39) does not" (fun () ->
            let configs =
                [ { D = 4; K = 2; SigmaPre = [| 4.0; 1.0; 9.0; 0.25 |]; C = [| 2.0; 0.5; 1.0; 1.0 / 16.0 |]; Beta = [| 1.0; -1.0 |]; Sigma2 = 1.0 },
                  [| 56.0; 0.642857142857143 |]
                  { D = 5; K = 2; SigmaPre = [| 0.25; 4.0; 1.0; 9.0; 4.0 |]; C = [| 0.2; 3.0; 0.5; 2.0; 1.0 / 3.0 |]; Beta = [| 2.0; 1.0 |]; Sigma2 = 1.0 },
                  [| 67.1233333333333; 2.79697934271904; 1.92735850448295 |]
                  { D = 5; K = 3; SigmaPre = [| 4.0; 9.0; 0.25; 1.0; 4.0 |]; C = [| 3.0; 5.0; 0.125; 0.25; 0.5 |]; Beta = [| 1.0; 1.0; 1.0 |]; Sigma2 = 1.0 },
                  [| 20.7391401387614; 2.60813578676761 |] ]
            for cfg, mpmath in configs do
                let sp = Spectral.spec cfg
                let h = TwoStage.horizontal sp
                agree 1e-8 h (DescriptorRoute.compute sp (Spectral.descriptorModel cfg))
                agree 1e-8 h (Spectral.closedSummary "closed" cfg)
                Array.iter2 (fun a b -> Expect.isLessThan (abs (a - b)) (1e-12 * b) "mpmath weight") h.Weights mpmath
                let printed = Spectral.paperWeights cfg
                let worst = Array.map2 (fun (a: float) b -> abs (a - b) / b) printed h.Weights |> Array.max
                Expect.isGreaterThan worst 0.5 "printed (H.39) differs (some weight off by more than 50%)")
        testCase "spectral: the printed Cor. 6.3 disagrees with the generic routes" (fun () ->
            let cfg = Spectral.defaultConfig 6 2 1.0
            let h = TwoStage.horizontal (Spectral.spec cfg)
            let p = Spectral.closedSummary "paper" cfg
            Expect.isGreaterThan (AsymptoticSummary.weightDiscrepancy h p) 0.1 "paper differs"
            Expect.floatClose Accuracy.veryHigh p.Weights.[0] 16.5 "printed weight 2 sum_i i(1 + i^-2 + tau) = 16.5")
        testCase "spectral: dropping the Weingarten term in the descriptor route breaks the agreement" (fun () ->
            let cfg = Spectral.defaultConfig 6 2 1.0
            let sp = Spectral.spec cfg
            let dm = Spectral.descriptorModel cfg
            let broken = { dm with Manifold = { dm.Manifold with EhessToRhess = fun x _ h _ -> dm.Manifold.Project x h } }
            let b = DescriptorRoute.compute sp broken
            Expect.isGreaterThan (AsymptoticSummary.weightDiscrepancy (TwoStage.horizontal sp) b) 0.1 "Euclidean-only Hessian is wrong")
        testCase "factor: horizontal, descriptor and closed routes agree to 1e-8 relative (4 configurations)" (fun () ->
            for cfg in factorConfigs do
                let sp = Factor.spec cfg
                let h = TwoStage.horizontal sp
                let dsc = DescriptorRoute.compute sp (Factor.descriptorModel cfg)
                let cl = Factor.closedSummary "closed" cfg
                agree 1e-8 h dsc
                agree 1e-8 h cl)
        testCase "factor at unit scale: the direct computation at moderate beta* agrees; huge beta* no longer hangs or overflows in the eigensolver" (fun () ->
            // Independent route: at beta* = 3 (1, 2) and sigma_nu^2 = 5 the direct computation is well scaled, and
            // the law is quadratic in the scale of y, so atUnitScale (which divides by c = 4) must agree with it.
            let moderate = { factorConfigs.[2] with Beta = [| 3.0; 6.0 |]; SigmaNu2 = 5.0 }
            for route in [ "horizontal"; "closed"; "paper" ] do
                let summaryOf cfg = if route = "horizontal" then TwoStage.horizontal (Factor.spec cfg) else Factor.closedSummary route cfg
                let direct = summaryOf moderate
                let scaled = Factor.atUnitScale summaryOf moderate
                agree 1e-12 direct scaled
                Expect.floatClose Accuracy.veryHigh scaled.Sigma2 direct.Sigma2 (sprintf "%s: sigma^2" route)
            // beta* = (1e150, 1): computed at beta* / 2^498, the weights are of order 1e300 and finite.
            let huge = { factorConfigs.[2] with Beta = [| 1e150; 1.0 |]; SigmaNu2 = 1.0 }
            let h = Factor.atUnitScale (fun cfg -> TwoStage.horizontal (Factor.spec cfg)) huge
            Expect.isTrue (h.Weights |> Array.forall Double.IsFinite) "finite weights of order 1e300"
            Expect.isGreaterThan h.Weights.[0] 1e299 "weights scale like beta*^2")
        testCase "factor: the independent mpmath numbers (errata Table 2) and the printed Cor. 6.4" (fun () ->
            let c2 = factorConfigs.[1]
            let c3 = factorConfigs.[2]
            Expect.floatClose Accuracy.veryHigh (TwoStage.horizontal (Factor.spec c2)).Weights.[0] 0.55 "diag(2,1): 1/20 + 1/2"
            Expect.floatClose Accuracy.veryHigh (TwoStage.horizontal (Factor.spec c3)).Weights.[0] (43.0 / 30.0) "43/30"
            Expect.floatClose Accuracy.veryHigh (Factor.paperWeights c2).[0] 1.3 "printed weight 1.3"
            Expect.floatClose Accuracy.high (Factor.paperWeights c3).[0] 3.122222222222 "printed weight 3.1222"
            // The printed weight equals beta^T A^T A (I + A^T A)^-1 beta (errata 2.2).
            let a = c3.Loadings
            let g = a.TransposeThisAndMultiply a
            let b = DenseVector(c3.Beta)
            Expect.floatClose Accuracy.high (Factor.paperWeights c3).[0] (b.DotProduct(g * (Linalg.eye 2 + g).Solve(b))) "printed form")
        testCase "regular case passes the check; an activated null direction raises IrregularCaseException" (fun () ->
            let cfg = Spectral.defaultConfig 5 2 1.0
            let sp = Spectral.spec cfg
            TwoStage.checkRegular sp
            // w* with a zero second row: Sigma(w*) = w* w*^T is singular, and moving that row activates it.
            let w = Spectral.aStar cfg
            w.[1, 1] <- 0.0
            let irregular = { sp with WStar = w }
            Expect.throwsT<IrregularCaseException> (fun () -> TwoStage.horizontal irregular |> ignore) "irregular case reported"
            try TwoStage.checkRegular irregular
            with :? IrregularCaseException as e ->
                Expect.equal e.NullDirections.Length 1 "one activated direction"
                Expect.floatClose Accuracy.high (abs e.NullDirections.[0].[1]) 1.0 "it is the second feature")
        testCase "prior-art bounds: Cabannes et al. Thm 4 and Ge et al. Thm 4.4 as printed (L547-L552, L598-L603)" (fun () ->
            let cfg = Spectral.defaultConfig 6 2 1.5
            // ||C^-1 A*^T beta*||^2 = sum_{i<=k} i = k(k+1)/2, so the term is k (d-k) k (k+1)/2 = 2 * 4 * 3.
            Expect.floatClose Accuracy.veryHigh (Spectral.cabannesPretrainTerm cfg) 24.0 "k (d-k) ||C^-1 A*^T beta*||^2"
            Expect.floatClose Accuracy.veryHigh (Spectral.cabannesBound cfg 2.0) (1.5 * 2.0 + 12.0) "bound"
            let fcfg = factorConfigs.[1]
            // A* = [diag(2,1); 0]: ||A*||_op = 2, ||beta*|| = sqrt 2, s_min = 1, so D = 2.
            Expect.floatClose Accuracy.veryHigh (Factor.gePretrainTerm fcfg) (2.0 ** 12.0 * (2.0 ** 4.0 + 1.0) * 6.0) "D^12 (D^4 + s_min^-4) d"
            Expect.floatClose Accuracy.veryHigh (Factor.geBound fcfg 4.0) (16.0 * 2.0 + 2.0 ** 12.0 * 17.0 * 6.0 / 4.0) "bound"
            Expect.floatClose Accuracy.veryHigh (Factor.geImprovement fcfg 2.2) (2.0 ** 12.0 * 17.0 * 6.0 / 2.2) "improvement factor")
        testCase "factor downstream generator: E[(y - f*(x))^2] = sigma^2 and E[(y - f*(x)) x] = 0 (seeded, within 4 SE)" (fun () ->
            let cfg = factorConfigs.[0]
            let sp = Factor.spec cfg
            let b = DenseVector(ModelSpec.targetCoefficients sp)
            let x, y = Factor.sampleDownstream cfg 200000 (Random 31)
            let eps = Array.init y.Length (fun i -> y.[i] - x.Row(i).DotProduct(b))
            let e2 = eps |> Array.map (fun e -> e * e)
            let m = Array.average e2
            let se = sqrt ((e2 |> Array.sumBy (fun v -> (v - m) ** 2.0)) / float (e2.Length - 1) / float e2.Length)
            Expect.isLessThan (abs (m - sp.Sigma2)) (4.0 * se) (sprintf "E eps^2 %g +- %g vs sigma^2 %g" m se sp.Sigma2)
            for j in 0 .. 1 do
                let c = Array.init y.Length (fun i -> eps.[i] * x.[i, j])
                let mc = Array.average c
                let sc = sqrt ((c |> Array.sumBy (fun v -> (v - mc) ** 2.0)) / float (c.Length - 1) / float c.Length)
                Expect.isLessThan (abs mc) (4.0 * sc) "E[eps x] = 0 (f* is the regression function)"
            let xs, ys = Spectral.sampleDownstream (Spectral.defaultConfig 4 2 0.5) 10 (Random 1)
            Expect.equal (xs.RowCount, ys.Length) (10, 10) "spectral generator shape")
        testCase "sampled representation (Monte Carlo moments) agrees with the exact linear-Gaussian one within Monte Carlo error" (fun () ->
            let cfg = Spectral.defaultConfig 5 2 1.0
            let sp = Spectral.spec cfg
            let sampled =
                { sp with
                    Representation =
                        Sampled
                            { Features = fun a x -> (a * DenseVector(x)).ToArray()
                              FeatureDifferential = fun _ x e -> (e * DenseVector(x)).ToArray()
                              Sample = fun rng -> Linalg.randnVector rng 5
                              Count = 100000
                              Seed = 5 } }
            let exact = TwoStage.horizontal sp
            let mc = TwoStage.horizontal sampled
            Expect.equal mc.DEff exact.DEff "d_eff"
            Expect.equal mc.DBase exact.DBase "d_base"
            // Entries of a 100k-draw Monte Carlo Gram have relative error about sqrt(2/1e5) = 0.45%; 2% is ~4.5 SE.
            Expect.isLessThan (AsymptoticSummary.weightDiscrepancy exact mc) 0.02 (sprintf "weights %A vs %A" mc.Weights exact.Weights)
            Expect.isGreaterThan (AsymptoticSummary.weightDiscrepancy exact mc) 1e-6 "and the Monte Carlo route really is Monte Carlo"
            // The irregular case is detected through the sampled moments too.
            let w = Spectral.aStar cfg
            w.[1, 1] <- 0.0
            Expect.throwsT<IrregularCaseException> (fun () -> TwoStage.checkRegular { sampled with WStar = w }) "irregular (sampled)")
        testCase "gauge invariance: another representative Q w* with theta* -> rho(Q) theta* gives the same law (spectral and factor)" (fun () ->
            let rng = Random 41
            let cfg = Spectral.defaultConfig 5 2 1.0
            let sp = Spectral.spec cfg
            let q = Linalg.randomOrthogonal rng 2
            let moved = { sp with WStar = q * sp.WStar; ThetaStar = (q * DenseVector(sp.ThetaStar)).ToArray() }
            Expect.isLessThan (AsymptoticSummary.weightDiscrepancy (TwoStage.horizontal sp) (TwoStage.horizontal moved)) 1e-12 "spectral"
            let fcfg = factorConfigs.[0]
            let fp = Factor.spec fcfg
            let q2 = Linalg.randomOrthogonal rng 2
            // O(k) from the right: g.A = A g^T, psi(x, g.A) = g psi(x, A), so theta* -> g theta*.
            let fmoved = { fp with WStar = fp.WStar * q2.Transpose(); ThetaStar = (q2 * DenseVector(fp.ThetaStar)).ToArray() }
            Expect.isLessThan (AsymptoticSummary.weightDiscrepancy (TwoStage.horizontal fp) (TwoStage.horizontal fmoved)) 1e-12 "factor"
            // A wrong gauge (theta* not rotated) is a different target and gives a different law.
            Expect.isGreaterThan (AsymptoticSummary.weightDiscrepancy (TwoStage.horizontal sp) (TwoStage.horizontal { moved with ThetaStar = sp.ThetaStar })) 1e-6 "not a tautology")
        testCase "crossover alpha0 = E||L||^2 / (sigma^2 (d_base - d_eff))" (fun () ->
            let cfg = Spectral.defaultConfig 6 2 2.0
            let h = TwoStage.horizontal (Spectral.spec cfg)
            Expect.floatClose Accuracy.high (AsymptoticSummary.alpha0 h).Value (56.49364583333 / (2.0 * 4.0)) "alpha0"
            let law = AsymptoticSummary.limitLaw 2.0 h
            Expect.floatClose Accuracy.high law.Mean (2.0 * 2.0 + 56.49364583333 / 2.0) "mean of E_alpha")
        testCase "Proposition B.1: Rep + Leak + Var equals a label-noise Monte Carlo of the conditional risk" (fun () ->
            let rng = Random 21
            let d, n = 5, 30
            let sigmaDown = let r = Linalg.randn rng d d in Linalg.sym (r * r.Transpose() / float d + Linalg.eye d)
            let w = Linalg.randn rng 2 d
            let b = Linalg.randnVector rng d
            let sigma2 = 0.7
            let chol = sigmaDown.Cholesky().Factor
            let design = (Linalg.randn rng n d) * chol.Transpose()
            let risk = ConditionalRisk.linearGaussian sigmaDown sigma2 b w design
            let phi = design * w.Transpose()
            let f = design * DenseVector(b)
            let reps = 20000
            let excess =
                Array.init reps (fun _ ->
                    let y = f + DenseVector(Linalg.randnVector rng n) * sqrt sigma2
                    let theta = phi.PseudoInverse() * y
                    let r = DenseVector(b) - w.TransposeThisAndMultiply(theta)
                    r.DotProduct(sigmaDown * r))
            let m = Array.average excess
            let se = sqrt ((excess |> Array.sumBy (fun x -> (x - m) ** 2.0)) / float (reps - 1) / float reps)
            Expect.isLessThan (abs (m - risk.Excess)) (4.0 * se) (sprintf "MC %g +- %g vs B.1 %g" m se risk.Excess)
            Expect.isGreaterThan risk.Rep 0.0 "misspecified features have Rep > 0"
            // At the true features Rep = 0 and Leak = 0.
            let wTrue = DenseMatrix.OfRowArrays([| b |])
            let r0 = ConditionalRisk.linearGaussian sigmaDown sigma2 b wTrue design
            Expect.isLessThan (r0.Rep + r0.Leak) 1e-20 "well specified")
    ]

/// docs/theory.md section 3, step 5: the descriptor-coordinate covariance equals `J V_h J^T`, `J = dD(w*) B`.
let pushForwardTests =
    testList "Asymptotics.TwoStage.pushForward" [
        testCase "V on the descriptor manifold equals J V_h J^T (spectral and factor)" (fun () ->
            let check (sp: ModelSpec<float[]>) (dm: DescriptorModel) (desc: FunctionalAsymptotics.Groups.Descriptor) =
                // The dense sandwich route: V_h in the explicit horizontal basis.
                let h = TwoStage.horizontalWith (Sandwich.population sp) sp
                let basis = FunctionalAsymptotics.Groups.GroupAction.horizontalBasis sp.Action sp.WStar
                let tb = dm.Manifold.TangentBasis dm.OmegaStar
                let j = DenseMatrix.Create(tb.Length, basis.Length, fun i k -> Linalg.inner tb.[i] (desc.Differential sp.WStar basis.[k]))
                let pushed = j * h.Covariance * j.Transpose()
                let dsc = DescriptorRoute.compute sp dm
                let rel = Linalg.norm (pushed - dsc.Covariance) / Linalg.norm dsc.Covariance
                Expect.isLessThan rel 1e-9 (sprintf "%s: relative difference %g" sp.Name rel)
            let cfg = Spectral.defaultConfig 6 2 1.0
            check (Spectral.spec cfg) (Spectral.descriptorModel cfg) (FunctionalAsymptotics.Groups.Descriptor.gramLeft (Spectral.aStar cfg))
            let fcfg = factorConfigs.[0]
            check (Factor.spec fcfg) (Factor.descriptorModel fcfg) (FunctionalAsymptotics.Groups.Descriptor.gramRight fcfg.Loadings))
    ]
