/// `Common`: strict invariant number parsing, the one error handler (exit codes, one line, never a stack
/// trace, never a crash when stderr cannot be written), computation versus usage errors, Ctrl-C.
module FunctionalAsymptotics.Tests.Cli.CommonTests

open System
open System.Globalization
open System.IO
open Expecto
open FsCheck
open FsCheck.FSharp
open FunctionalAsymptotics
open FunctionalAsymptotics.Cli.Common

let private usageMessage (f: unit -> 'T) =
    try
        f () |> ignore
        failtest "expected a usage error"
    with UsageError m -> m

/// A writer whose every write fails (stderr closed, full disk, broken pipe).
type private BrokenWriter() =
    inherit TextWriter()
    override _.Encoding = Text.Encoding.UTF8
    override _.Write(_: char) : unit = raise (IOException "Bad file descriptor")
    override _.Flush() : unit = raise (IOException "Bad file descriptor")

let private handled (body: unit -> int) =
    use out = new StringWriter()
    use err = new StringWriter()
    let code = handle { Out = out; Error = err } body
    code, out.ToString(), err.ToString()

let tests =
    testList "Cli.Common" [
        testPropertyWithConfig { FsCheckConfig.defaultConfig with maxTest = 300 } "Parse.float reads back every finite double's round-trip text (invariant culture)" <| fun (x: NormalFloat) ->
            let x = x.Get
            Parse.float "--x" (x.ToString("R", CultureInfo.InvariantCulture)) = x

        testCase "Parse.float is strict: thousands separators, non-finite values and junk are usage errors naming the option" (fun () ->
            for text in [ "2,5"; "1,000"; "1 000"; "NaN"; "Infinity"; "-Infinity"; "1e400"; "0x10"; "(1)"; "$1"; ""; "1.2.3"; "1e"; "abc"; "1,5e3" ] do
                let m = usageMessage (fun () -> Parse.float "--alpha" text)
                Expect.stringStarts m "--alpha: " (sprintf "'%s' names the option" text)
            Expect.stringContains (usageMessage (fun () -> Parse.float "--alpha" "2,5")) "decimal separator is '.'" "says why"
            Expect.equal (Parse.float "--alpha" " 2.5 ") 2.5 "surrounding blanks"
            Expect.equal (Parse.float "--alpha" "-1e-3") -0.001 "sign and exponent"
            Expect.equal (Parse.floats "--w" "1,0.5,-2e1") [| 1.0; 0.5; -20.0 |] "list")

        testCase "Parse.int/ints/uint64/assignments are strict" (fun () ->
            for text in [ "1,000"; "1e3"; "2.0"; "99999999999"; ""; "x" ] do
                Expect.stringStarts (usageMessage (fun () -> Parse.int "--d" text)) "--d: " text
            Expect.equal (Parse.ints "--dof" "1,2,3") [| 1; 2; 3 |] "list"
            Expect.stringStarts (usageMessage (fun () -> Parse.ints "--dof" "1,,2")) "--dof: " "empty item"
            Expect.stringStarts (usageMessage (fun () -> Parse.uint64 "--seed" "-1")) "--seed: " "negative seed"
            Expect.equal (Parse.assignments "--param" "d=6,sigma2=0.5") [ "d", 6.0; "sigma2", 0.5 ] "pairs"
            Expect.stringStarts (usageMessage (fun () -> Parse.assignments "--param" "sigma2=0,5")) "--param: " "comma in a value")

        testCase "Require: alpha must be positive with a finite inverse; sizes bounded before allocation" (fun () ->
            Expect.stringStarts (usageMessage (fun () -> Require.positiveInvertible "--alpha" 0.0)) "--alpha: must be > 0" "zero"
            Expect.stringStarts (usageMessage (fun () -> Require.positiveInvertible "--alpha" 1e-320)) "--alpha: must be at least" "1/alpha overflows"
            Expect.equal (Require.positiveInvertible "--alpha" 1e-300) 1e-300 "1/alpha = 1e300 is finite"
            Expect.stringStarts (usageMessage (fun () -> Require.intBetween "--reps" 1 10 11)) "--reps: must be between 1 and 10" "too large")

        testCase "handle: usage errors exit 2, computation errors exit 1, one line each, no stack trace or .NET type names" (fun () ->
            let cases : (int * (unit -> int)) list =
                [ 2, (fun () -> usageError "--alpha: must be > 0\nsecond line")
                  2, (fun () -> raise (InvalidArgumentException("weights", "must be non-empty")))
                  1, (fun () -> compute "the spectral limit law" "--alpha 1" (fun () -> raise (InvalidArgumentException("x", "must not be NaN"))))
                  1, (fun () -> finiteResult "the variance" "--alpha 1e-300" infinity |> int)
                  1, (fun () -> raise (ConvergenceException("Newton", 10, 1.0, 1e-12)))
                  1, (fun () -> raise (OutOfMemoryException()))
                  1, (fun () -> raise (OverflowException()))
                  1, (fun () -> raise (IndexOutOfRangeException()))
                  1, (fun () -> raise (Collections.Generic.KeyNotFoundException()))
                  1, (fun () -> raise (IOException "disk full"))
                  2, (fun () -> raise (DirectoryNotFoundException "Could not find a part of the path '/no/such'"))
                  130, (fun () -> raise (OperationCanceledException())) ]
            for expected, body in cases do
                let code, out, err = handled body
                Expect.equal code expected err
                Expect.equal out "" "nothing on stdout"
                Expect.stringStarts err "fa: " "one fa: line"
                Expect.equal (err.TrimEnd('\n', '\r').Split('\n').Length) 1 "exactly one line"
                Expect.isFalse (err.Contains "   at " || err.Contains "System." || err.Contains "Exception:") (sprintf "no trace or type name: %s" err)
            let _, _, err = handled (fun () -> compute "the spectral limit law" "--alpha 1" (fun () -> raise (InvalidArgumentException("x", "must not be NaN"))))
            Expect.stringContains err "the spectral limit law failed for --alpha 1" "names the computation and its inputs")

        testCase "validating maps the core's argument names to the user's options (exit 2)" (fun () ->
            let m = usageMessage (fun () -> validating [ "dofs", "--dof" ] (fun () -> raise (InvalidArgumentException("dofs", "must be integers >= 1"))))
            Expect.equal m "--dof: must be integers >= 1" "option name")

        testCase "a closed or failing stderr never crashes fa: the exit code still reports the failure" (fun () ->
            use broken = new BrokenWriter()
            let code = FunctionalAsymptotics.Cli.Program.run { Out = broken; Error = broken } [| "law"; "--weights"; "2,5,x" |]
            Expect.equal code 2 "usage error, stderr unwritable"
            let code2 = FunctionalAsymptotics.Cli.Program.run { Out = broken; Error = broken } [| "law"; "--weights"; "1"; "--cdf"; "1" |]
            Expect.equal code2 1 "stdout unwritable: an input/output failure, exit 1"
            let code3 = FunctionalAsymptotics.Cli.Program.run { Out = broken; Error = broken } [| "law"; "--help" |]
            Expect.equal code3 0 "help with stdout unwritable still exits 0")

        testSequenced <| testCase "Ctrl-C: a cooperating command sees its token cancelled; outside one, the request is refused (fa exits 130)" (fun () ->
            Expect.isFalse (Interrupt.request ()) "no cooperating command"
            let code =
                Interrupt.cooperate (fun token ->
                    Expect.isTrue (Interrupt.request ()) "accepted"
                    if token.IsCancellationRequested then 130 else 0)
            Expect.equal code 130 "the command stopped"
            Expect.isFalse (Interrupt.request ()) "restored after the command")
    ]
