namespace FunctionalAsymptotics.Models

open FunctionalAsymptotics

/// Gauss–Hermite rules for the standard normal and their tensor grids: the quadrature behind the mixture's
/// population expectations on the `r*`-dimensional span of the centred centres (docs/gmm/README.md,
/// "The quadrature route").
[<RequireQualifiedAccess>]
module GaussHermite =

    /// The `n`-point Gauss–Hermite rule for `N(0, 1)` (probabilists' Hermite polynomials `He_n`): nodes ascending
    /// and weights summing to 1, exact for polynomials of degree `<= 2n - 1`. Golub–Welsch: the nodes are the
    /// eigenvalues of the symmetric tridiagonal Jacobi matrix with zero diagonal and off-diagonal `sqrt k`
    /// (`k = 1 .. n-1`), the weights the squared first components of its unit eigenvectors.
    let rule (n: int) : float[] * float[] =
        if n < 1 || n > 200 then Check.fail "order" (sprintf "must be in [1, 200], got %d" n)
        let j = Linalg.init n n (fun a b -> if abs (a - b) = 1 then sqrt (float (max a b)) else 0.0)
        let lam, v = Linalg.eigSymDesc j
        let idx = Array.init n (fun i -> n - 1 - i)
        let nodes = idx |> Array.map (fun i -> lam.[i])
        let w = idx |> Array.map (fun i -> v.[0, i] * v.[0, i])
        let s = Array.sum w
        nodes, w |> Array.map (fun x -> x / s)

    /// The tensor grid of the `n`-point rule in `dim` dimensions: `n^dim` nodes (row-major, `dim` coordinates each)
    /// and their product weights, summing to 1 (the expectation under `N(0, I_dim)`).
    let tensor (n: int) (dim: int) : float[] * float[] =
        if dim < 1 then Check.fail "dim" (sprintf "must be >= 1, got %d" dim)
        let count = pown (int64 n) dim
        if count > 50_000_000L then Check.fail "order" (sprintf "n^dim = %d^%d nodes exceed the limit 5e7" n dim)
        let x, w = rule n
        let count = int count
        let nodes = Array.zeroCreate (count * dim)
        let weights = Array.zeroCreate count
        for c in 0 .. count - 1 do
            let mutable rest = c
            let mutable wt = 1.0
            for a in 0 .. dim - 1 do
                let i = rest % n
                rest <- rest / n
                nodes.[c * dim + a] <- x.[i]
                wt <- wt * w.[i]
            weights.[c] <- wt
        nodes, weights
