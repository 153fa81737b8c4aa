import Foundation
import RbicCheck
import RbicDiagnostics
import Synchronization

/// A failure while running, with the source range it happened at. The kind decides the exit code:
/// the runbook failed (1), the environment or a tool failed (3), a safety gate
/// refused (4), or the run was interrupted (130); and whether a `keep going` loop may go on to its
/// next item (`isConfinedToItem`).
public struct RuntimeError: Error, Sendable {
  public enum Kind: Sendable {
    /// `require`, `ensure`, `fail`, overflow: the runbook failed.
    case failed
    /// The run's step, time or memory limit: the runbook failed, and so would anything after it.
    case limit
    /// A tool, file or the network: the environment failed.
    case environment
    /// An effect that may or may not have happened (a timeout or a transport error after it was
    /// sent, a reply that cannot be read): journaled, held for an operator on re-run.
    case outcomeUnknown
    /// A safety gate refused a mutation, or the operator declined.
    case refused
    case interrupted
    /// Bad params or usage, found before anything ran.
    case usage

    public var exitCode: Int32 {
      switch self {
      case .usage: 2
      case .failed, .limit: 1
      case .environment, .outcomeUnknown: 3
      case .refused: 4
      case .interrupted: 130
      }
    }

    /// Whether the failure belongs to the one item a `keep going` loop was working on, so the loop
    /// may go on to the next: a definite failure of the runbook or of a tool. A refusal, a declined
    /// question, an unknown outcome, an interruption or a run-wide limit stops the loop instead.
    public var isConfinedToItem: Bool {
      switch self {
      case .failed, .environment: true
      case .limit, .outcomeUnknown, .refused, .interrupted, .usage: false
      }
    }
  }

  public var kind: Kind
  public var diagnostic: Diagnostic

  public init(_ kind: Kind, _ diagnostic: Diagnostic) {
    self.kind = kind
    self.diagnostic = diagnostic
  }

  /// An error whose location is filled in by the interpreter (for builtins, which have none).
  public static func message(_ kind: Kind, _ text: String) -> RuntimeError {
    RuntimeError(kind, .error(.runtimeError, text, at: SourceRange(file: FileID(-1), start: 0, end: 0)))
  }

  /// A backend failure: the tool or the environment (exit 3), or the IC refused (exit 1).
  public static func backend(_ error: BackendError) -> RuntimeError {
    switch error {
    case .environment, .unknownOutcome, .unsupported, .notSent: .message(.environment, error.description)
    default: .message(.failed, error.description)
    }
  }
}
