/// The repository's documentation and citations resolve inside the repository: every relative Markdown
/// link (and its `#anchor`) points at an existing file and heading, every repository path cited in code
/// or docs (`docs/...`, `src/...`, `tests/...`, `examples/...`, `bench/...`) exists, and nothing cites
/// the team's notes or an absolute path outside the repository. Conventions: docs/contributing.md.
module FunctionalAsymptotics.Tests.Docs.DocsTests

open System
open System.IO
open System.Text.RegularExpressions
open Expecto

/// A possibly-null string from a .NET API, or "" (file-name helpers return null for roots).
let private orEmpty (s: string | null) : string =
    match s with
    | null -> ""
    | s -> s

/// The name of the solution file that marks the repository root.
[<Literal>]
let SolutionFile = "FunctionalAsymptotics.sln"

/// The repository root: the nearest ancestor of `start` (inclusive) that holds the solution file.
let findRoot (start: string) : string option =
    let rec up (dir: DirectoryInfo | null) =
        match dir with
        | null -> None
        | dir when File.Exists(Path.Combine(dir.FullName, SolutionFile)) -> Some dir.FullName
        | dir -> up dir.Parent
    up (DirectoryInfo start)

/// Directories never scanned: build outputs, tool state and generated reports (see .gitignore).
let private skippedDirectories =
    set [ "bin"; "obj"; "TestResults"; "BenchmarkDotNet.Artifacts"; "out"; "reproduce-out"; "node_modules" ]

/// File kinds whose text is scanned for citations.
let private scannedExtensions =
    set [ ".md"; ".fs"; ".fsi"; ".fsx"; ".cs"; ".fsproj"; ".csproj"; ".props"; ".py" ]

/// The scanned files under `root`, as full paths, sorted.
let repositoryFiles (root: string) : string[] =
    let rec walk (dir: string) =
        seq {
            for f in Directory.EnumerateFiles dir do
                if scannedExtensions.Contains((orEmpty (Path.GetExtension f)).ToLowerInvariant()) then yield f
            for sub in Directory.EnumerateDirectories dir do
                let name = orEmpty (Path.GetFileName sub)
                if not (name.StartsWith ".") && not (skippedDirectories.Contains name) then yield! walk sub
        }
    walk root |> Seq.sort |> Array.ofSeq

/// `path` relative to `root`, with forward slashes.
let relativeName (root: string) (path: string) = Path.GetRelativePath(root, path).Replace('\\', '/')

// ---------------------------------------------------------------------------------------------------
// Markdown

let private fence = Regex(@"^\s{0,3}(```|~~~)", RegexOptions.Compiled)
let private inlineCode = Regex(@"`+[^`]*`+", RegexOptions.Compiled)

/// The lines of a Markdown text outside fenced code blocks, with inline code spans blanked.
let proseLines (text: string) : string[] =
    let mutable inFence = false
    [| for line in text.Replace("\r\n", "\n").Split('\n') do
           if fence.IsMatch line then inFence <- not inFence
           elif not inFence then yield inlineCode.Replace(line, " ") |]

let private inlineLink =
    Regex(@"!?\[(?:[^\[\]]|\[[^\[\]]*\])*\]\(\s*<?([^\s()<>]+)>?(?:\s+(?:""[^""]*""|'[^']*'))?\s*\)", RegexOptions.Compiled)

let private referenceDefinition = Regex(@"^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)", RegexOptions.Compiled)
let private scheme = Regex(@"^[A-Za-z][A-Za-z0-9+.-]*:", RegexOptions.Compiled)

/// The targets of the inline links, images and reference definitions of a Markdown text (outside code).
let markdownLinkTargets (text: string) : string list =
    [ for line in proseLines text do
          for m in inlineLink.Matches line do yield m.Groups.[1].Value
          let r = referenceDefinition.Match line
          if r.Success then yield r.Groups.[1].Value ]

/// True for a target that leaves the repository (a URL with a scheme such as `https:` or `mailto:`).
let isExternal (target: string) = scheme.IsMatch target

let private heading = Regex(@"^\s{0,3}#{1,6}\s+(.*?)\s*#*\s*$", RegexOptions.Compiled)
let private linkInHeading = Regex(@"!?\[([^\]]*)\]\([^)]*\)", RegexOptions.Compiled)
let private htmlAnchor = Regex(@"<a\s+(?:name|id)\s*=\s*""([^""]+)""", RegexOptions.Compiled ||| RegexOptions.IgnoreCase)

/// The GitHub anchor of a heading text: lower case, punctuation other than `-` and `_` removed, spaces
/// turned into hyphens.
let slug (headingText: string) : string =
    let text = linkInHeading.Replace(headingText, "$1").ToLowerInvariant()
    let kept =
        text
        |> Seq.filter (fun c -> Char.IsLetterOrDigit c || c = ' ' || c = '-' || c = '_')
        |> Seq.map (fun c -> if c = ' ' then '-' else c)
        |> Array.ofSeq
    String kept

/// The anchors a Markdown text defines: heading slugs (repeated ones numbered `-1`, `-2`, ... as GitHub
/// does) and explicit HTML anchors.
let anchors (text: string) : Set<string> =
    let seen = Collections.Generic.Dictionary<string, int>()
    let mutable inFence = false
    [ for line in text.Replace("\r\n", "\n").Split('\n') do
          if fence.IsMatch line then inFence <- not inFence
          elif not inFence then
              let h = heading.Match line
              if h.Success then
                  let s = slug (inlineCode.Replace(h.Groups.[1].Value, fun m -> m.Value.Trim('`')))
                  match seen.TryGetValue s with
                  | true, k ->
                      seen.[s] <- k + 1
                      yield sprintf "%s-%d" s (k + 1)
                  | _ ->
                      seen.[s] <- 0
                      yield s
              for a in htmlAnchor.Matches line do yield a.Groups.[1].Value ]
    |> Set.ofList

/// The broken relative links of the Markdown file `file`: each as `(target, reason)`. A target resolves
/// relative to the file's folder; a `#fragment` must be a heading anchor of the target Markdown file.
let brokenLinks (file: string) : (string * string) list =
    let text = File.ReadAllText file
    let dir = orEmpty (Path.GetDirectoryName file)
    [ for target in markdownLinkTargets text do
          if not (isExternal target) then
              let hash = target.IndexOf '#'
              let pathPart, fragment =
                  if hash < 0 then target, None else target.Substring(0, hash), Some(target.Substring(hash + 1))
              let path = Uri.UnescapeDataString pathPart
              let resolved = if path = "" then file else Path.GetFullPath(Path.Combine(dir, path))
              if not (File.Exists resolved || Directory.Exists resolved) then
                  yield target, "no such file"
              else
                  match fragment with
                  | Some f when f <> "" && File.Exists resolved && resolved.EndsWith(".md", StringComparison.OrdinalIgnoreCase) ->
                      let wanted = Uri.UnescapeDataString(f).ToLowerInvariant()
                      if not (anchors (File.ReadAllText resolved) |> Set.contains wanted) then
                          yield target, "no such heading"
                  | _ -> () ]

// ---------------------------------------------------------------------------------------------------
// Paths cited in code and prose

/// The top-level folders whose paths, when cited, must exist.
let citedRoots = [ "docs"; "src"; "tests"; "examples"; "bench" ]

let private citedPath =
    Regex(@"(?<![\w./\\-])((?:" + String.Join("|", citedRoots) + @")/[A-Za-z0-9_.+/-]*)", RegexOptions.Compiled)

/// The repository paths cited in a text, as written, after trimming sentence punctuation. A path
/// followed by a placeholder or glob (`Models/<Model>/`, `*.fsx`) keeps only its folder part; build
/// outputs (`bin/`, `obj/`) and elided paths (`...`) are not citations of files.
let citedPaths (text: string) : string list =
    [ for m in citedPath.Matches text do
          let raw = m.Groups.[1].Value
          let next = m.Index + m.Length
          let followedByPattern = next < text.Length && "<*{[".Contains text.[next]
          let path =
              if followedByPattern then raw.Substring(0, raw.LastIndexOf('/') + 1)
              else raw.TrimEnd('.', ',', ';', ':')
          let segments = path.Split('/')
          let elided = path.Contains "..."
          let buildOutput = segments |> Array.exists (fun s -> s = "bin" || s = "obj")
          if not elided && not buildOutput && path.Contains "/" then yield path ]

/// The paths cited in `file` that do not exist under `root`.
let missingCitations (root: string) (file: string) : string list =
    File.ReadAllText file
    |> citedPaths
    |> List.filter (fun p ->
        let full = Path.Combine(root, p)
        not (File.Exists full || Directory.Exists full))
    |> List.distinct

// ---------------------------------------------------------------------------------------------------
// References that leave the repository

/// What may not be cited: the team's notes by name, their folders, and absolute paths of the machine the
/// notes live on. (Assembled from parts so that this file does not cite them itself.)
let forbiddenReferences : string list =
    [ "THEORY" + ".md"; "CASE-" + "STUDIES"; "STYLE" + ".md"; ".." + "/shared"; "shared/" + "spec"
      "shared/" + "reference"; "/" + "work/" ]

/// The forbidden references that occur in a text (case-sensitive: `docs/theory.md` is allowed).
let forbiddenIn (text: string) : string list =
    forbiddenReferences |> List.filter (fun f -> text.Contains(f, StringComparison.Ordinal))

// ---------------------------------------------------------------------------------------------------

/// A throw-away folder with a solution file and the given files (relative path, content).
let private withFakeRepository (files: (string * string) list) (f: string -> unit) =
    let root = Path.Combine(Path.GetTempPath(), "fa-docs-test-" + Guid.NewGuid().ToString("N"))
    try
        Directory.CreateDirectory root |> ignore
        File.WriteAllText(Path.Combine(root, SolutionFile), "")
        for (rel, content) in files do
            let full = Path.Combine(root, rel)
            Directory.CreateDirectory(orEmpty (Path.GetDirectoryName full)) |> ignore
            File.WriteAllText(full, content)
        f root
    finally
        if Directory.Exists root then Directory.Delete(root, true)

let private describe (root: string) (items: (string * string) list) =
    items |> List.map (fun (file, what) -> sprintf "%s: %s" (relativeName root file) what) |> String.concat "\n"

let private root () =
    match findRoot AppContext.BaseDirectory with
    | Some r -> r
    | None -> failwithf "%s not found in any folder above %s" SolutionFile AppContext.BaseDirectory

let tests =
    testList "Docs" [
        testList "checkers" [
            testCase "the repository root is found from a nested folder and not invented above it" <| fun () ->
                withFakeRepository [ "a/b/c/x.md", "" ] (fun fake ->
                    Expect.equal (findRoot (Path.Combine(fake, "a", "b", "c"))) (Some fake) "nearest folder with the solution"
                    Expect.isNone (findRoot (orEmpty (Path.GetPathRoot fake))) "no solution file at the file-system root")

            testCase "a link to a missing file and to a missing heading are reported, good ones are not" <| fun () ->
                let page =
                    String.concat "\n"
                        [ "# Title"; "## Section `two`: more"; "## Repeat"; "## Repeat"
                          "[good](other.md) [good anchor](other.md#the-target) [self](#section-two-more)"
                          "[second repeat](#repeat-1) [folder](sub/) ![image](sub/pic.png)"
                          "[web](https://example.org/missing.md) [mail](mailto:someone)"
                          "[bad](missing.md) [bad anchor](other.md#no-such-heading) [bad self](#nowhere)"
                          "```"; "[in code](also-missing.md)"; "```"
                          "`[inline code](missing-too.md)`"
                          "[ref]: sub/gone.md" ]
                withFakeRepository [ "notes/page.md", page; "notes/other.md", "# The target\n"; "notes/sub/pic.png", "" ] (fun fake ->
                    let broken = brokenLinks (Path.Combine(fake, "notes", "page.md"))
                    Expect.equal (List.sort broken)
                        (List.sort [ "missing.md", "no such file"; "other.md#no-such-heading", "no such heading"
                                     "#nowhere", "no such heading"; "sub/gone.md", "no such file" ])
                        "exactly the four bad links")

            testCase "heading slugs follow GitHub's rule" <| fun () ->
                Expect.equal (slug "3. The pre-training CLT (paper Section 4.1, eq. (4.2))")
                    "3-the-pre-training-clt-paper-section-41-eq-42" "punctuation dropped, spaces hyphenated"
                Expect.equal (slug "Set-up") "set-up" "hyphens kept"

            testCase "a cited path that does not exist is reported; patterns, build outputs and elisions are not" <| fun () ->
                let d = "docs"
                let s = "src"
                let text =
                    String.concat "\n"
                        [ sprintf "/// see %s/real.md section 3, and %s/A/real.fs." d s
                          sprintf "/// moved to %s/gone.md; %s/A/Gone.fs" d s
                          sprintf "/// one folder per model: %s/A/<Model>/ and %s/A/*.fs" s s
                          sprintf "/// %s/A/bin/Release/x.dll, %s/.../x.fs" s s
                          sprintf "/// not a citation: my%s/gone.md or ../%s/gone.md" d d ]
                withFakeRepository [ d + "/real.md", ""; s + "/A/real.fs", ""; s + "/A/note.md", text ] (fun fake ->
                    let missing = missingCitations fake (Path.Combine(fake, "src", "A", "note.md"))
                    Expect.equal missing [ d + "/gone.md"; s + "/A/Gone.fs" ] "exactly the two missing files")

            testCase "references to the team's notes and absolute paths are found; the docs' own names are not" <| fun () ->
                let notes = "THE" + "ORY.md"
                Expect.equal (forbiddenIn (sprintf "(%s section 3)" notes)) [ notes ] "the notes by name"
                Expect.equal (forbiddenIn ("see .." + "/shared/x")) [ ".." + "/shared" ] "the notes' folder"
                Expect.isNonEmpty (forbiddenIn ("`" + "/work" + "/shared/" + "reference/paper.txt`")) "an absolute path"
                Expect.isEmpty (forbiddenIn "docs/theory.md section 3, docs/case-studies.md §1, docs/contributing.md")
                    "the repository's own docs"
        ]

        testList "repository" [
            testCase "every relative Markdown link resolves to a file and heading" <| fun () ->
                let root = root ()
                let pages = repositoryFiles root |> Array.filter (fun f -> f.EndsWith ".md")
                Expect.isGreaterThanOrEqual pages.Length 5 "the scan sees the repository's Markdown files"
                let checkedLinks = pages |> Array.sumBy (fun p -> File.ReadAllText p |> markdownLinkTargets |> List.length)
                Expect.isGreaterThanOrEqual checkedLinks 10 "the scan sees the links"
                let broken =
                    [ for p in pages do
                          for (target, why) in brokenLinks p do
                              yield p, sprintf "(%s) %s" target why ]
                Expect.isEmpty broken (sprintf "broken links:\n%s" (describe root broken))

            testCase "every repository path cited in code and docs exists" <| fun () ->
                let root = root ()
                let files = repositoryFiles root
                Expect.isTrue (files |> Array.exists (fun f -> relativeName root f = "docs/theory.md")) "the scan sees docs/"
                let missing =
                    [ for f in files do
                          for p in missingCitations root f do
                              yield f, p ]
                Expect.isEmpty missing (sprintf "cited but missing:\n%s" (describe root missing))

            testCase "nothing cites the team's notes or a path outside the repository" <| fun () ->
                let root = root ()
                let offending =
                    [ for f in repositoryFiles root do
                          for r in forbiddenIn (File.ReadAllText f) do
                              yield f, r ]
                Expect.isEmpty offending (sprintf "references outside the repository:\n%s" (describe root offending))
        ]
    ]
