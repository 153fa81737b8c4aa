import ArgumentParser
import Foundation
import RbicLanguageServer

/// `rbic lsp`: the language server, on standard input and output.
struct LspCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "lsp",
    abstract: "Run the language server (Language Server Protocol over stdio) for editors.",
    discussion: "Editor configurations for Neovim, Helix and VS Code are in editors/.")

  func run() throws {
    throw ExitCode(LanguageServer(input: STDIN_FILENO, output: STDOUT_FILENO, version: Rbic.version).run())
  }
}
