// The `rbic` command: its commands are the `RbicCommands` library.
import RbicCommands

CommandLine.run()
