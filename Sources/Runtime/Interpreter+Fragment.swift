import Foundation
import RbicCheck
import RbicDiagnostics
import RbicParser

/// The REPL's way in: running one input's statements against the globals kept so far.
extension Interpreter {
  /// Runs statements of the REPL's current input (on an interpreter-sized stack); returns the
  /// value of a lone expression.
  package func runFragment(_ statements: [Stmt]) -> (value: Value?, failure: RuntimeError?) {
    let outcome = Interpreter.onLargeStack { [self] in
      let (value, failure) = runFragmentHere(statements)
      return Outcome(value: value, failure: failure)
    }
    return (outcome.value, outcome.failure)
  }

  private struct Outcome: Sendable {
    var value: Value?
    var failure: RuntimeError?
  }

  private func runFragmentHere(_ statements: [Stmt]) -> (value: Value?, failure: RuntimeError?) {
    var ctx = Context(frame: Array(repeating: .void, count: max(program.mainFrameSize, 1)))
    do {
      try bindParams(strict: false)
      // An imported file's `let`s run once, the first time the session sees them.
      for tree in program.trees.dropLast() {
        for stmt in tree.statements {
          guard case .let(let name, _, _) = stmt.kind, case .global(let slot)? = program.declarations[name.range],
            slot < globals.count, globals[slot] == nil
          else { continue }
          try executeTopLevel(stmt, &ctx)
        }
      }
      if statements.count == 1, case .expression(let e) = statements[0].kind {
        return (try eval(e, &ctx), nil)
      }
      for stmt in statements { try executeTopLevel(stmt, &ctx) }
      return (nil, nil)
    } catch .failed(let error) {
      return (nil, RuntimeError(error.kind, pipeline.redactor.scrub(error.diagnostic)))
    } catch .skipped(let reason) {
      return (nil, .message(.failed, "skipped: \(reason)"))
    } catch {
      return (nil, .message(.failed, "`return` outside a function"))
    }
  }
}
