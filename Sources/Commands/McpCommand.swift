import ArgumentParser
import Foundation
import Synchronization

/// `rbic mcp`: the Model Context Protocol server, on standard input and output.
struct McpCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "mcp",
    abstract:
      "Serve AI assistants over the Model Context Protocol (stdio): check, describe, plan, run by plan id, inspect, report.",
    discussion: """
      The server is read-only unless started with --allow-mutations; even then every confirmation is \
      asked of the human through MCP elicitation, and a plan is applied by its id only. See docs/assistants.md.
      """)

  @Flag(
    help: "Apply plans (`run`); without it the server refuses every run. Confirmations are still asked of the human.")
  var allowMutations = false

  @OptionGroup var options: ExecutionOptions

  func validate() throws {
    if options.yes {
      throw ValidationError("rbic mcp asks every confirmation of the human; --yes is not accepted")
    }
    if !options.params.isEmpty || options.paramsFile != nil {
      throw ValidationError("params are given per plan (`params`, `params_file`), not to the server")
    }
    if options.readOnly, allowMutations {
      throw ValidationError("--read-only and --allow-mutations contradict each other")
    }
    if options.allowLocalEffects {
      throw ValidationError(
        "rbic mcp never runs local commands in plan or inspect; --allow-local-effects is not accepted")
    }
  }

  func run() throws {
    guard Execution.networkIsKnown(options.network) else { throw ExitCode(2) }
    let server = McpServer(
      options: options, allowMutations: allowMutations && !options.readOnly,
      directory: FileManager.default.currentDirectoryPath)
    let done = DispatchSemaphore(value: 0)
    let failure = Mutex<String?>(nil)
    Task {
      do { try await server.serve() } catch { failure.withLock { $0 = "\(error)" } }
      done.signal()
    }
    done.wait()
    if let message = failure.withLock({ $0 }) {
      Terminal.writeError("error: \(message)\n")
      throw ExitCode(3)
    }
  }
}
