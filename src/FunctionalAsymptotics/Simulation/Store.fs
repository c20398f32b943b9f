namespace FunctionalAsymptotics.Simulation

open System
open System.Collections.Generic
open System.Globalization
open System.IO
open System.Text
open System.Text.Json
open FunctionalAsymptotics

/// What a simulation run (or one shard of it) computes. Everything that determines the numbers is here,
/// so a directory's manifest says exactly which run its records belong to.
type RunSpec =
    {
        /// Registry name of the model.
        Model: string
        /// The model's full parameter map (defaults filled in).
        Parameters: Map<string, float>
        /// `alpha = m / n`; `m = floor(alpha n)`.
        Alpha: float
        /// The run seed; replicate `r` at `n` uses the stream of `(Seed, n, r)`.
        Seed: uint64
        /// Downstream sample sizes, distinct and `>= 1`.
        Grid: int[]
        /// Replicates per grid point.
        Reps: int
        /// This shard, `1 <= Shard <= Shards`.
        Shard: int
        /// Number of shards; the pair `(grid index g, replicate r)` belongs to shard `(g Reps + r) mod Shards + 1`.
        Shards: int
    }

/// Functions on run specifications.
[<RequireQualifiedAccess>]
module RunSpec =
    /// `m = floor(alpha n)`.
    let preTrainingSize (alpha: float) (n: int) : int = int (floor (alpha * float n))

    /// Checks the specification; raises `InvalidArgumentException` naming the bad field.
    let validate (spec: RunSpec) : unit =
        Check.positive "alpha" spec.Alpha
        Check.nonEmpty "grid" spec.Grid
        for n in spec.Grid do
            if n < 1 then Check.fail "grid" (sprintf "sample sizes must be >= 1, got %d" n)
            if preTrainingSize spec.Alpha n < 1 then Check.fail "grid" (sprintf "m = floor(alpha n) must be >= 1; n = %d is too small" n)
        if (Array.distinct spec.Grid).Length <> spec.Grid.Length then Check.fail "grid" "sample sizes must be distinct"
        if spec.Reps < 1 then Check.fail "reps" (sprintf "must be >= 1, got %d" spec.Reps)
        if spec.Shards < 1 then Check.fail "shards" (sprintf "must be >= 1, got %d" spec.Shards)
        if spec.Shard < 1 || spec.Shard > spec.Shards then
            Check.fail "shard" (sprintf "must be in 1..%d, got %d" spec.Shards spec.Shard)

    /// Whether the pair `(grid index, replicate)` belongs to this shard.
    let owns (spec: RunSpec) (gridIndex: int) (replicate: int) : bool =
        int ((int64 gridIndex * int64 spec.Reps + int64 replicate) % int64 spec.Shards) + 1 = spec.Shard

    /// Equal in everything that determines the numbers (model, parameters, alpha, seed, grid, reps).
    let sameRun (a: RunSpec) (b: RunSpec) : bool =
        a.Model = b.Model && a.Parameters = b.Parameters && a.Alpha = b.Alpha && a.Seed = b.Seed
        && a.Grid = b.Grid && a.Reps = b.Reps

/// One stored replicate.
[<Struct>]
type ReplicateRecord =
    {
        /// Downstream sample size.
        N: int
        /// Replicate index.
        Replicate: int
        /// The outcome.
        Outcome: ReplicateOutcome
    }

/// A run directory that cannot be used as asked: a record that fails its checksum or the identity
/// `total = pretrain + leak + variance`, a malformed or unreadable file, a store format this version does
/// not read, records that no manifest vouches for, or a directory another process is writing. `Path` names
/// the file (or directory) and `Line` the 1-based line of a bad record (0 when the whole file is concerned).
type RunStoreException(path: string, line: int, reason: string) =
    inherit InvalidArgumentException(path, (if line > 0 then sprintf "line %d: %s" line reason else reason))
    /// The file or directory concerned.
    member _.Path = path
    /// The 1-based line of the bad record, or 0.
    member _.Line = line
    /// What is wrong, in words.
    member _.Reason = reason

/// A run directory: `manifest.json` (the `RunSpec`, written atomically: temp file, fsync, rename) and
/// `replicates.jsonl` (one JSON object per replicate, appended in batches, each batch flushed to disk
/// with fsync). Numbers are written in shortest round-trip form, so reading gives back the same bits.
/// A kill can leave at most one torn last line; it is ignored, and removed on resume.
///
/// Integrity (store format 2): every record ends with `"check"`, the first 16 hex digits of the SHA-256 of
/// the run's identity (`RunSpec.identity`: model, parameters, alpha, seed, grid, reps) and the record's text
/// before the check, and satisfies `total = pretrain + leak + variance` to rounding. Both are verified on
/// every read (resume, merge, summaries); a bad record is a `RunStoreException` naming the file and line.
/// Format 1 stores (no checksums) are refused. A process writing a directory holds `dir/.fa-lock`
/// (an exclusive OS file lock, released when the process ends, so a killed run never blocks a retry).
[<RequireQualifiedAccess>]
module Store =
    /// File name of the manifest.
    [<Literal>]
    let ManifestFile = "manifest.json"

    /// File name of the replicate records.
    [<Literal>]
    let RecordsFile = "replicates.jsonl"

    /// File name of the lock a writing process holds.
    [<Literal>]
    let LockFile = ".fa-lock"

    /// The store format this version writes and reads.
    [<Literal>]
    let Format = 2

    let private fmt (x: float) = x.ToString("R", CultureInfo.InvariantCulture)

    let private fail (argument: string) (text: string) : 'T = raise (InvalidArgumentException(argument, text))

    let private corrupt (path: string) (line: int) (reason: string) : 'T = raise (RunStoreException(path, line, reason))

    /// Runs `f`, turning I/O failures on `path` into a one-line `RunStoreException`.
    let private io (path: string) (f: unit -> 'T) : 'T =
        try f ()
        with
        | :? IOException as e -> corrupt path 0 (sprintf "cannot be read or written: %s" e.Message)
        | :? UnauthorizedAccessException -> corrupt path 0 "access denied"

    /// The canonical text of what determines a run's numbers (not its shard): the checksum key of its records.
    let identity (spec: RunSpec) : string =
        let sb = StringBuilder()
        sb.Append("{\"model\":").Append(JsonSerializer.Serialize spec.Model).Append(",\"parameters\":{") |> ignore
        spec.Parameters |> Map.toList |> List.iteri (fun i (k, v) ->
            if i > 0 then sb.Append(',') |> ignore
            sb.Append(JsonSerializer.Serialize k).Append(':').Append(fmt v) |> ignore)
        sb.Append("},\"alpha\":").Append(fmt spec.Alpha)
          .Append(",\"seed\":").Append(spec.Seed)
          .Append(",\"grid\":[").Append(String.Join(",", spec.Grid)).Append(']')
          .Append(",\"reps\":").Append(spec.Reps).Append('}') |> ignore
        sb.ToString()

    /// The manifest text of `spec`.
    let manifestJson (spec: RunSpec) : string =
        let id = identity spec
        sprintf "{\"format\":%d,%s,\"shard\":%d,\"shards\":%d}\n" Format (id.Substring(1, id.Length - 2)) spec.Shard spec.Shards

    /// Writes `text` to `path` atomically: a unique temp file beside it, fsync, rename over `path`.
    let writeAtomic (path: string) (text: string) : unit =
        io path (fun () ->
            let temp = sprintf "%s.%s.tmp" path (Guid.NewGuid().ToString("N"))
            try
                do
                    use fs = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None)
                    let bytes = Encoding.UTF8.GetBytes text
                    fs.Write(bytes, 0, bytes.Length)
                    fs.Flush(true)
                File.Move(temp, path, true)
            finally
                if File.Exists temp then File.Delete temp)

    /// Writes `dir/manifest.json` atomically.
    let writeManifest (dir: string) (spec: RunSpec) : unit =
        io dir (fun () -> Directory.CreateDirectory dir |> ignore)
        writeAtomic (Path.Combine(dir, ManifestFile)) (manifestJson spec)

    /// Takes the exclusive lock of `dir` (creating the directory) for as long as the result is not disposed.
    /// Raises `RunStoreException` if another process (or another writer in this one) holds it.
    let lock (dir: string) : IDisposable =
        io dir (fun () -> Directory.CreateDirectory dir |> ignore)
        let path = Path.Combine(dir, LockFile)
        try new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None) :> IDisposable
        with
        | :? IOException -> corrupt dir 0 "is being written by another fa process (it holds .fa-lock); wait for it or choose another directory"
        | :? UnauthorizedAccessException -> corrupt dir 0 "access denied"

    /// Reads `dir/manifest.json`; a missing, unreadable, malformed or format-1 manifest is a `RunStoreException`.
    let readManifest (dir: string) : RunSpec =
        let path = Path.Combine(dir, ManifestFile)
        if not (File.Exists path) then corrupt dir 0 (sprintf "has no %s (not a simulation directory)" ManifestFile)
        let text = io path (fun () -> File.ReadAllText path)
        try
            use doc = JsonDocument.Parse text
            let root = doc.RootElement
            let format = match root.TryGetProperty "format" with | true, f -> f.GetInt32() | _ -> 1
            if format <> Format then
                corrupt path 0
                    (sprintf "store format %d; this fa reads format %d only (format 1 records carry no checksums and cannot be verified): rerun the simulation into a new directory" format Format)
            {
                Model = root.GetProperty("model").GetString() |> Option.ofObj |> Option.defaultValue ""
                Parameters =
                    root.GetProperty("parameters").EnumerateObject()
                    |> Seq.map (fun p -> p.Name, p.Value.GetDouble())
                    |> Map.ofSeq
                Alpha = root.GetProperty("alpha").GetDouble()
                Seed = root.GetProperty("seed").GetUInt64()
                Grid = root.GetProperty("grid").EnumerateArray() |> Seq.map (fun e -> e.GetInt32()) |> Array.ofSeq
                Reps = root.GetProperty("reps").GetInt32()
                Shard = root.GetProperty("shard").GetInt32()
                Shards = root.GetProperty("shards").GetInt32()
            }
        with
        | :? JsonException
        | :? KeyNotFoundException
        | :? FormatException
        | :? InvalidOperationException -> corrupt path 0 "malformed manifest (not the JSON fa writes)"

    let private checkPrefix = ",\"check\":\""

    /// The checksum of a record's text (without its check) in the run with identity `runIdentity`.
    let private checksum (runIdentity: string) (body: string) : string =
        let hash = Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes(runIdentity + "\n" + body))
        Convert.ToHexString(hash, 0, 8).ToLowerInvariant()

    /// Whether `total = pretrain + leak + variance` to rounding (about 64 units in the last place of the parts).
    let partsAddUp (o: ReplicateOutcome) =
        let scale = abs o.Pretrain + abs o.Leak + abs o.Variance
        abs (o.Total - (o.Pretrain + o.Leak + o.Variance)) <= 64.0 * Double.Epsilon + 1.4e-14 * scale

    /// One record of the run `spec` as a JSON line with its checksum (and the trailing newline).
    let recordLine (spec: RunSpec) (r: ReplicateRecord) : string =
        let o = r.Outcome
        let body =
            String.Concat(
                [| "{\"n\":"; string r.N; ",\"r\":"; string r.Replicate
                   ",\"total\":"; fmt o.Total; ",\"pretrain\":"; fmt o.Pretrain
                   ",\"leak\":"; fmt o.Leak; ",\"variance\":"; fmt o.Variance; "}" |])
        String.Concat(body.Substring(0, body.Length - 1), checkPrefix, checksum (identity spec) body, "\"}\n")

    /// Parses and verifies one record line (1-based `lineNumber` of `path`) of the run with `runIdentity`.
    let private parseLine (path: string) (runIdentity: string) (lineNumber: int) (line: string) : ReplicateRecord =
        let at = line.LastIndexOf(checkPrefix, StringComparison.Ordinal)
        if at < 0 || not (line.EndsWith("\"}", StringComparison.Ordinal)) then
            corrupt path lineNumber "record without a checksum"
        let body = line.Substring(0, at) + "}"
        let check = line.Substring(at + checkPrefix.Length, line.Length - 2 - at - checkPrefix.Length)
        if not (String.Equals(check, checksum runIdentity body, StringComparison.Ordinal)) then
            corrupt path lineNumber "checksum mismatch: the record was changed, or belongs to another run"
        let record =
            try
                use doc = JsonDocument.Parse body
                let e = doc.RootElement
                {
                    N = e.GetProperty("n").GetInt32()
                    Replicate = e.GetProperty("r").GetInt32()
                    Outcome =
                        { Total = e.GetProperty("total").GetDouble()
                          Pretrain = e.GetProperty("pretrain").GetDouble()
                          Leak = e.GetProperty("leak").GetDouble()
                          Variance = e.GetProperty("variance").GetDouble() }
                }
            with
            | :? JsonException
            | :? KeyNotFoundException
            | :? FormatException
            | :? InvalidOperationException -> corrupt path lineNumber "malformed record"
        if not (partsAddUp record.Outcome) then
            corrupt path lineNumber "total <> pretrain + leak + variance"
        record

    /// The records of `dir/replicates.jsonl` verified against the run `spec` (none if the file is missing),
    /// and the byte length of the complete part (a torn last line, without its newline, is left out).
    let readRecordsOf (spec: RunSpec) (dir: string) : ReplicateRecord[] * int64 =
        let path = Path.Combine(dir, RecordsFile)
        if not (File.Exists path) then [||], 0L
        else
            let bytes = io path (fun () -> File.ReadAllBytes path)
            let lastNewline = Array.LastIndexOf(bytes, byte '\n')
            let text = Encoding.UTF8.GetString(bytes, 0, lastNewline + 1)
            let runIdentity = identity spec
            let lines = text.Split('\n')
            let records =
                [| for i in 0 .. lines.Length - 1 do
                     if lines.[i].Length > 0 then yield parseLine path runIdentity (i + 1) lines.[i] |]
            records, int64 (lastNewline + 1)

    /// The complete, verified records of `dir` and the byte length of their part of the file.
    let readRecordsWithLength (dir: string) : ReplicateRecord[] * int64 = readRecordsOf (readManifest dir) dir

    /// The complete, verified records of `dir`.
    let readRecords (dir: string) : ReplicateRecord[] = fst (readRecordsWithLength dir)

    /// What a directory holds of a run.
    type Holding =
        /// No manifest and no records: free for the run.
        | Empty
        /// Records of this run (and shard): its manifest says so, or, without a manifest, every record's
        /// checksum proves it. The records and the byte length of their complete part.
        | ThisRun of hasManifest: bool * records: ReplicateRecord[] * length: int64

    /// What `dir` holds for the run (shard) `spec`. Raises `RunStoreException` naming the directory and
    /// what is there when it holds another run, another shard, or records that cannot be shown to be this
    /// run's; such records are never deleted or truncated.
    let inspect (spec: RunSpec) (dir: string) : Holding =
        let recordsPath = Path.Combine(dir, RecordsFile)
        let recordBytes = if File.Exists recordsPath then FileInfo(recordsPath).Length else 0L
        let hasManifest = File.Exists(Path.Combine(dir, ManifestFile))
        if hasManifest then
            let stored = readManifest dir
            if not (RunSpec.sameRun stored spec) || stored.Shard <> spec.Shard || stored.Shards <> spec.Shards then
                corrupt dir 0
                    (sprintf "holds another run (model %s, seed %d, alpha %s, grid %s, %d reps, shard %d/%d); choose another directory"
                        stored.Model stored.Seed (fmt stored.Alpha) (String.Join(",", stored.Grid)) stored.Reps stored.Shard stored.Shards)
        if not hasManifest && recordBytes = 0L then Empty
        else
            let records, length =
                if hasManifest then readRecordsOf spec dir
                else
                    try readRecordsOf spec dir
                    with :? RunStoreException as e ->
                        corrupt dir 0 (sprintf "holds %s (%d bytes) but no %s, and its records are not this run's (%s); move them away or choose another directory" RecordsFile recordBytes ManifestFile e.Message)
            let index = spec.Grid |> Array.mapi (fun g n -> n, g) |> dict
            for r in records do
                match index.TryGetValue r.N with
                | true, g when r.Replicate >= 0 && r.Replicate < spec.Reps && RunSpec.owns spec g r.Replicate -> ()
                | _ -> corrupt recordsPath 0 (sprintf "replicate (n = %d, r = %d) belongs to another shard of this run; move the file away or choose another directory" r.N r.Replicate)
            ThisRun(hasManifest, records, length)

    /// Opens `dir/replicates.jsonl` for appending after `length` bytes (a torn tail beyond is cut off).
    let openForAppend (dir: string) (length: int64) : FileStream =
        let path = Path.Combine(dir, RecordsFile)
        io path (fun () ->
            let fs = new FileStream(path, FileMode.OpenOrCreate, FileAccess.Write, FileShare.Read)
            fs.SetLength length
            fs.Seek(length, SeekOrigin.Begin) |> ignore
            fs)

    /// Appends a batch of the run `spec` and flushes it to disk (fsync) before returning.
    let appendBatch (spec: RunSpec) (fs: FileStream) (batch: ReplicateRecord seq) : unit =
        let sb = StringBuilder()
        for r in batch do
            sb.Append(recordLine spec r) |> ignore
        let bytes = Encoding.UTF8.GetBytes(sb.ToString())
        io fs.Name (fun () ->
            fs.Write(bytes, 0, bytes.Length)
            fs.Flush(true))

    /// The outcomes of a complete run, per grid point in replicate order. Raises `InvalidArgumentException`
    /// if a record is missing, duplicated with different values, or outside the grid.
    let collect (spec: RunSpec) (records: ReplicateRecord seq) : ReplicateOutcome[][] =
        let index = spec.Grid |> Array.mapi (fun g n -> n, g) |> dict
        let table = Array.init spec.Grid.Length (fun _ -> Array.zeroCreate<ReplicateOutcome> spec.Reps)
        let seen = Array.init spec.Grid.Length (fun _ -> Array.zeroCreate<bool> spec.Reps)
        for r in records do
            match index.TryGetValue r.N with
            | true, g when r.Replicate >= 0 && r.Replicate < spec.Reps ->
                if seen.[g].[r.Replicate] && table.[g].[r.Replicate] <> r.Outcome then
                    fail "records" (sprintf "replicate (n = %d, r = %d) stored twice with different values" r.N r.Replicate)
                table.[g].[r.Replicate] <- r.Outcome
                seen.[g].[r.Replicate] <- true
            | _ -> fail "records" (sprintf "replicate (n = %d, r = %d) is not in the run's grid" r.N r.Replicate)
        let missing = seen |> Array.sumBy (Array.sumBy (fun b -> if b then 0 else 1))
        if missing > 0 then
            fail "records" (sprintf "%d of %d replicates are missing (run every shard, or resume the run)" missing (spec.Reps * spec.Grid.Length))
        table

    /// Merges shard directories of one run into `outDir` (as a single-shard run, records sorted by
    /// grid point and replicate). The shards must share model, parameters, alpha, seed, grid, reps and
    /// shard count, and together hold every replicate; every record is verified. `outDir` must be empty or
    /// hold this merged run (an earlier merge of the same shards, complete or interrupted: the result is
    /// rewritten, with the same bytes); the records and then the manifest are written atomically. Returns
    /// the merged specification.
    let merge (dirs: string list) (outDir: string) : RunSpec =
        if List.isEmpty dirs then fail "dirs" "give at least one shard directory"
        let specs = dirs |> List.map readManifest
        let first = List.head specs
        for d, s in List.zip dirs specs do
            if not (RunSpec.sameRun first s) || s.Shards <> first.Shards then
                fail "dirs" (sprintf "'%s' belongs to a different run than '%s'" d (List.head dirs))
        let merged = { first with Shard = 1; Shards = 1 }
        let records = dirs |> List.toArray |> Array.collect readRecords
        let table = collect merged records
        use _writer = lock outDir
        inspect merged outDir |> ignore
        let sb = StringBuilder()
        for g in 0 .. merged.Grid.Length - 1 do
            for r in 0 .. merged.Reps - 1 do
                sb.Append(recordLine merged { N = merged.Grid.[g]; Replicate = r; Outcome = table.[g].[r] }) |> ignore
        writeAtomic (Path.Combine(outDir, RecordsFile)) (sb.ToString())
        writeManifest outDir merged
        merged
