/// One diagnostic model for every phase: a severity, a stable code, a lowercase message naming the
/// thing in backticks, a primary range, labelled secondary ranges, notes and fix-it hints.
public struct Diagnostic: Hashable, Sendable {
  public enum Severity: String, Sendable, Comparable {
    case error, warning, note

    private var rank: Int {
      switch self {
      case .error: 2
      case .warning: 1
      case .note: 0
      }
    }
    public static func < (a: Severity, b: Severity) -> Bool { a.rank < b.rank }
  }

  /// How many diagnostics one file shows (`capped(perFile:)`).
  package static let perFileLimit = 100
  /// Where the lexer and the parser stop collecting diagnostics, far beyond `perFileLimit`, so
  /// memory stays bounded too.
  package static let collectionLimit = 10_000

  /// A range with a short text shown under it (power-assert values, "first defined here").
  public struct Label: Hashable, Sendable {
    public var range: SourceRange
    public var text: String
    public init(_ range: SourceRange, _ text: String) {
      self.range = range
      self.text = text
    }
  }

  /// A trailing `= note:` or `= help:` line.
  public struct Note: Hashable, Sendable {
    public enum Kind: String, Sendable { case note, help }
    public var kind: Kind
    public var message: String
    public init(_ kind: Kind, _ message: String) {
      self.kind = kind
      self.message = message
    }
  }

  /// A suggested edit: replace `range` with `replacement`.
  public struct FixIt: Hashable, Sendable {
    public var range: SourceRange
    public var replacement: String
    public init(range: SourceRange, replacement: String) {
      self.range = range
      self.replacement = replacement
    }
  }

  public var severity: Severity
  public var code: DiagnosticCode
  public var message: String
  public var range: SourceRange
  public var labels: [Label]
  public var notes: [Note]
  public var fixIts: [FixIt]

  public init(
    _ severity: Severity, _ code: DiagnosticCode, _ message: String, at range: SourceRange,
    labels: [Label] = [], notes: [Note] = [], fixIts: [FixIt] = []
  ) {
    self.severity = severity
    self.code = code
    self.message = message
    self.range = range
    self.labels = labels
    self.notes = notes
    self.fixIts = fixIts
  }

  public static func error(
    _ code: DiagnosticCode, _ message: String, at range: SourceRange, labels: [Label] = [], notes: [Note] = [],
    fixIts: [FixIt] = []
  ) -> Diagnostic {
    Diagnostic(.error, code, message, at: range, labels: labels, notes: notes, fixIts: fixIts)
  }

  public static func warning(
    _ code: DiagnosticCode, _ message: String, at range: SourceRange, labels: [Label] = [], notes: [Note] = []
  ) -> Diagnostic {
    Diagnostic(.warning, code, message, at: range, labels: labels, notes: notes)
  }

  /// The message with its notes and help, one per line (`note: …`, `help: …`): for tools that
  /// show a diagnostic as one text (an editor's hover, an assistant).
  package var messageWithNotes: String {
    message + notes.map { "\n\($0.kind.rawValue): \($0.message)" }.joined()
  }

  public func note(_ message: String) -> Diagnostic {
    var d = self
    d.notes.append(Note(.note, message))
    return d
  }

  public func help(_ message: String) -> Diagnostic {
    var d = self
    d.notes.append(Note(.help, message))
    return d
  }
}

extension Array where Element == Diagnostic {
  public var hasErrors: Bool { contains { $0.severity == .error } }

  /// At most `limit` diagnostics per file, in the order given; the last one kept says how many
  /// more there were. A hostile 11 MB file makes a screenful, not 300 MB of output.
  package func capped(perFile limit: Int = Diagnostic.perFileLimit) -> [Diagnostic] {
    var counts: [FileID: Int] = [:]
    for d in self { counts[d.range.file, default: 0] += 1 }
    guard counts.values.contains(where: { $0 > limit }) else { return self }
    var out: [Diagnostic] = []
    var seen: [FileID: Int] = [:]
    for d in self {
      let n = seen[d.range.file, default: 0] + 1
      seen[d.range.file] = n
      guard n <= limit else { continue }
      let total = counts[d.range.file, default: 0]
      out.append(
        n == limit && total > limit ? d.note("\(total - limit) more diagnostics in this file are not shown") : d)
    }
    return out
  }

  /// Diagnostics in source order (file, then start offset); those starting at the same offset keep
  /// the order they were reported in.
  package func sortedBySource() -> [Diagnostic] {
    enumerated().sorted { a, b in
      let (x, y) = (a.element, b.element)
      if x.range.file != y.range.file { return x.range.file < y.range.file }
      if x.range.start != y.range.start { return x.range.start < y.range.start }
      return a.offset < b.offset
    }.map(\.element)
  }
}

/// Edit distance, for "did you mean" suggestions.
package func editDistance(_ a: String, _ b: String) -> Int {
  let a = Array(a.unicodeScalars)
  let b = Array(b.unicodeScalars)
  if a.isEmpty { return b.count }
  if b.isEmpty { return a.count }
  var previous = Array(0...b.count)
  var current = [Int](repeating: 0, count: b.count + 1)
  for i in 1...a.count {
    current[0] = i
    for j in 1...b.count {
      let cost = a[i - 1] == b[j - 1] ? 0 : 1
      current[j] = Swift.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
    }
    swap(&previous, &current)
  }
  return previous[b.count]
}

/// The closest candidate to `name`, if it is close enough to be a plausible typo.
package func closestMatch(to name: String, in candidates: some Sequence<String>) -> String? {
  let limit = Swift.max(1, name.count / 3)
  var best: (String, Int)?
  for candidate in candidates where candidate != name {
    let d = editDistance(name.lowercased(), candidate.lowercased())
    if d <= limit, d < (best?.1 ?? Int.max) { best = (candidate, d) }
  }
  return best?.0
}
