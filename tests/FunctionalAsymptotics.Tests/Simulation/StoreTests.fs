/// Integrity of simulation stores (issue 14): records are checksummed and satisfy
/// `total = pretrain + leak + variance`, verified on every read; records a run did not write are never
/// truncated; corrupted files and concurrent writers are typed one-line errors.
module FunctionalAsymptotics.Tests.Simulation.StoreTests

open System
open System.IO
open System.Threading
open System.Threading.Tasks
open Expecto
open FunctionalAsymptotics
open FunctionalAsymptotics.Simulation
open FunctionalAsymptotics.Models

let private tempDir (name: string) =
    let dir = Path.Combine(Path.GetTempPath(), sprintf "fa-store-%s-%s" name (Guid.NewGuid().ToString("N")))
    Directory.CreateDirectory dir |> ignore
    dir

let private toyParams = ModelFactory.resolve (ModelRegistry.simulation "toy") []
let private toy = (ModelRegistry.simulation "toy").Create 2.0 toyParams

let private spec shard shards =
    { Model = "toy"; Parameters = toyParams; Alpha = 2.0; Seed = 7UL; Grid = [| 10; 30 |]; Reps = 12; Shard = shard; Shards = shards }

let private opts resume = { RunOptions.defaults with Threads = 2; BatchSize = 5; Resume = resume }

let private run (s: RunSpec) (dir: string) (resume: bool) = Engine.run toy s dir (opts resume) CancellationToken.None

let private recordsPath (dir: string) = Path.Combine(dir, Store.RecordsFile)

/// The exception `f` raises, which must be a `RunStoreException`.
let private storeError (f: unit -> unit) (what: string) : RunStoreException =
    let e = Expect.throwsC f id
    match e with
    | :? RunStoreException as s -> s
    | other -> failtestf "%s: expected a RunStoreException, got %s: %s" what (other.GetType().Name) other.Message

/// Changes one digit of the `total` of the 1-based `line` (the last digit before the next field).
let private changeDigit (path: string) (line: int) =
    let lines = File.ReadAllLines path
    let l = lines.[line - 1]
    let at = l.IndexOf(",\"pretrain\"") - 1
    let digit = l.[at]
    Expect.isTrue (Char.IsDigit digit) "a digit to change"
    lines.[line - 1] <- l.Substring(0, at) + string (if digit = '9' then '8' else char (int digit + 1)) + l.Substring(at + 1)
    File.WriteAllText(path, String.Join("\n", lines) + "\n")

let tests =
    testList "Simulation.Store" [
        test "a record with one changed digit is refused by every read (records, resume, merge), naming file and line" {
            let dirs = [ for i in 1 .. 2 -> let d = tempDir (sprintf "shard%d" i) in Expect.equal (run (spec i 2) d false) Completed "shard"; d ]
            let bad = dirs.[0]
            changeDigit (recordsPath bad) 3
            let before = File.ReadAllBytes(recordsPath bad)
            for what, f in [ "readRecords", (fun () -> Store.readRecords bad |> ignore)
                             "resume", (fun () -> run (spec 1 2) bad true |> ignore)
                             "merge", (fun () -> Store.merge dirs (Path.Combine(tempDir "merged", "out")) |> ignore) ] do
                let e = storeError f what
                Expect.equal e.Path (recordsPath bad) (sprintf "%s: names the file" what)
                Expect.equal e.Line 3 (sprintf "%s: names the line" what)
                Expect.stringContains e.Message "checksum" what
            Expect.equal (File.ReadAllBytes(recordsPath bad)) before "the bad store is left as it was"
        }
        test "a record whose parts do not add up is refused even with a valid checksum; a model producing one is refused" {
            let s = spec 1 1
            let dir = tempDir "identity"
            Expect.equal (run s dir false) Completed "run"
            let good = (Store.readRecords dir).[0]
            let broken = { good with Replicate = good.Replicate; Outcome = { good.Outcome with Total = good.Outcome.Total * (1.0 + 1e-9) } }
            File.AppendAllText(recordsPath dir, Store.recordLine s broken)
            let e = storeError (fun () -> Store.readRecords dir |> ignore) "identity"
            Expect.equal e.Line (2 * 12 + 1) "the appended line"
            Expect.stringContains e.Reason "pretrain + leak + variance" "says which identity failed"
            let lying = { toy with Replicate = fun ctx -> let o = toy.Replicate ctx in { o with Total = o.Total + 1.0 } }
            Expect.throwsT<FunctionalAsymptoticsException> (fun () -> Engine.run lying s (tempDir "lying") (opts false) CancellationToken.None |> ignore) "not written"
        }
        test "records of another run fail their checksum: the key is the run's identity" {
            let dir = tempDir "foreign"
            Expect.equal (run (spec 1 1) dir false) Completed "run"
            let other = { spec 1 1 with Seed = 8UL }
            let e = storeError (fun () -> Store.readRecordsOf other dir |> ignore) "other identity"
            Expect.equal e.Line 1 "the first line already fails"
        }
        test "records without a manifest are never truncated; resumed only when every checksum proves them this run's" {
            let s = spec 1 1
            let clean = tempDir "clean"
            Expect.equal (run s clean false) Completed "clean"
            // Someone else's records (another seed), and a file that is not records at all.
            let foreign = tempDir "foreign-src"
            Expect.equal (run { s with Seed = 99UL } foreign false) Completed "foreign"
            for name, content in [ "foreign", File.ReadAllBytes(recordsPath foreign); "garbage", "not a record\n{\"n\":1}\n"B ] do
                let dir = tempDir name
                File.WriteAllBytes(recordsPath dir, content)
                for resume in [ false; true ] do
                    let e = storeError (fun () -> run s dir resume |> ignore) (sprintf "%s, resume %b" name resume)
                    Expect.equal e.Path dir (sprintf "%s: names the directory" name)
                    Expect.stringContains e.Reason "no manifest.json" "says what is there"
                    Expect.equal (File.ReadAllBytes(recordsPath dir)) content (sprintf "%s, resume %b: records untouched" name resume)
                    Expect.isFalse (File.Exists(Path.Combine(dir, Store.ManifestFile))) "no manifest written"
            // This run's own records whose manifest was lost (a torn tail too): refused without resume,
            // resumed with it, and the result is the uninterrupted run's.
            let own = tempDir "own"
            Expect.equal (run s own false) Completed "own"
            let lines = File.ReadAllLines(recordsPath own)
            File.WriteAllText(recordsPath own, String.Join("\n", Array.take 7 lines) + "\n" + lines.[7].Substring(0, 20))
            File.Delete(Path.Combine(own, Store.ManifestFile))
            let keep = File.ReadAllBytes(recordsPath own)
            Expect.throwsT<InvalidArgumentException> (fun () -> run s own false |> ignore) "no resume: refused"
            Expect.equal (File.ReadAllBytes(recordsPath own)) keep "untouched"
            Expect.equal (run s own true) Completed "resumed"
            Expect.equal (File.ReadAllText(recordsPath own)) (File.ReadAllText(recordsPath clean)) "byte-identical to the clean run"
            // Another shard's records of the same run (checksums valid) are not this shard's.
            let shardDir = tempDir "shard2"
            Expect.equal (run (spec 2 2) shardDir false) Completed "shard 2"
            File.Delete(Path.Combine(shardDir, Store.ManifestFile))
            storeError (fun () -> run (spec 1 2) shardDir true |> ignore) "another shard" |> ignore
        }
        test "a format-1 store, a malformed manifest and a malformed record are typed one-line errors" {
            let dir = tempDir "v1"
            File.WriteAllText(Path.Combine(dir, Store.ManifestFile),
                              "{\"format\":1,\"model\":\"toy\",\"parameters\":{},\"alpha\":2,\"seed\":7,\"grid\":[10],\"reps\":2,\"shard\":1,\"shards\":1}\n")
            File.WriteAllText(recordsPath dir, "{\"n\":10,\"r\":0,\"total\":3,\"pretrain\":1,\"leak\":1,\"variance\":1}\n")
            let e = storeError (fun () -> Store.readRecords dir |> ignore) "format 1"
            Expect.stringContains e.Reason "format 1" "names the format"
            Expect.stringContains e.Reason "checksums" "says why"
            let bad = tempDir "badjson"
            File.WriteAllText(Path.Combine(bad, Store.ManifestFile), "{\"format\":2,\"model\":")
            storeError (fun () -> Store.readManifest bad |> ignore) "truncated manifest" |> ignore
            storeError (fun () -> run (spec 1 1) bad true |> ignore) "resume over a truncated manifest" |> ignore
            let torn = tempDir "badline"
            Expect.equal (run (spec 1 1) torn false) Completed "run"
            let lines = File.ReadAllLines(recordsPath torn)
            lines.[4] <- "{\"n\":10,\"r\":4,\"total\":[],\"check\":\"0000000000000000\"}"
            File.WriteAllText(recordsPath torn, String.Join("\n", lines) + "\n")
            let e = storeError (fun () -> Store.readRecords torn |> ignore) "bad line"
            Expect.equal e.Line 5 "names the line"
            for x in [ e :> exn ] do Expect.isFalse (x.Message.Contains "\n") "one line"
        }
        test "two writers of one directory: one runs, the other gets a typed error; the lock dies with its holder" {
            let s = spec 1 1
            let dir = tempDir "race"
            do
                use _held = Store.lock dir
                let e = storeError (fun () -> run s dir false |> ignore) "locked"
                Expect.stringContains e.Reason "another fa process" "says why"
                Expect.isFalse (File.Exists(Path.Combine(dir, Store.ManifestFile))) "nothing written"
            let slow = { toy with Replicate = fun ctx -> Thread.Sleep 2; toy.Replicate ctx }
            for _ in 1 .. 3 do
                let raceDir = tempDir "race2"
                let outcomes =
                    [| for _ in 1 .. 2 ->
                        Task.Run(fun () ->
                            try Ok(Engine.run slow s raceDir (opts false) CancellationToken.None)
                            with e -> Error e) |]
                    |> Array.map (fun t -> t.Result)
                let completed = outcomes |> Array.filter (function Ok Completed -> true | _ -> false)
                Expect.equal completed.Length 1 "exactly one writer completes"
                for o in outcomes do
                    match o with
                    | Error e -> Expect.isTrue (e :? InvalidArgumentException) (sprintf "a typed error, got %s: %s" (e.GetType().Name) e.Message)
                    | Ok _ -> ()
                Expect.equal (Store.readRecords raceDir).Length 24 "every record once"
            Expect.equal (run s dir false) Completed "after the holder let go, the run goes ahead"
        }
        test "merge refuses an output holding another run and repeats into its own output with the same bytes" {
            let dirs = [ for i in 1 .. 2 -> let d = tempDir (sprintf "m%d" i) in Expect.equal (run (spec i 2) d false) Completed "shard"; d ]
            let out = Path.Combine(tempDir "mout", "merged")
            Store.merge dirs out |> ignore
            let first = File.ReadAllBytes(recordsPath out)
            File.Delete(Path.Combine(out, Store.ManifestFile))   // as if killed between the two renames
            Store.merge dirs out |> ignore
            Expect.equal (File.ReadAllBytes(recordsPath out)) first "same bytes"
            let other = tempDir "other"
            Expect.equal (run { spec 1 1 with Seed = 3UL } other false) Completed "another run"
            let before = File.ReadAllBytes(recordsPath other)
            storeError (fun () -> Store.merge dirs other |> ignore) "another run's directory" |> ignore
            Expect.equal (File.ReadAllBytes(recordsPath other)) before "untouched"
        }
    ]
