/// Every diagnostic rbic can report, with a stable name used in tool output and tests.
///
/// The test corpus proves each code (but the runtime ones, exercised by runtime tests) is produced
/// by at least one bad input, so adding a case here without a test fails the suite.
public enum DiagnosticCode: String, CaseIterable, Sendable, Codable {
  // Lexer
  case invalidUTF8 = "invalid-utf8"
  case unexpectedCharacter = "unexpected-character"
  case unterminatedString = "unterminated-string"
  case invalidEscape = "invalid-escape"
  case emptyInterpolation = "empty-interpolation"
  case malformedNumber = "malformed-number"
  case integerTooLarge = "integer-too-large"
  case unknownUnit = "unknown-unit"
  case fractionalAmount = "fractional-amount"
  case decimalWithoutUnit = "decimal-without-unit"
  case hashLength = "hash-length"
  case principalChecksum = "principal-checksum"
  case principalInvalid = "principal-invalid"
  /// A source over `Lexer.maxSourceBytes`: reported instead of reading it.
  case sourceTooLarge = "source-too-large"

  // Parser
  case expectedToken = "expected-token"
  case expectedExpression = "expected-expression"
  case expectedStatement = "expected-statement"
  case expectedType = "expected-type"
  case missingHeader = "missing-header"
  case misplacedHeader = "misplaced-header"
  case invalidVersion = "invalid-version"
  case statementOnSameLine = "statement-on-same-line"
  case misplacedDeclaration = "misplaced-declaration"
  case nestedStep = "nested-step"
  case nestingTooDeep = "nesting-too-deep"
  case unclosedDelimiter = "unclosed-delimiter"
  case invalidCallStatement = "invalid-call-statement"
  case unusedExpression = "unused-expression"
  case invalidAction = "invalid-action"

  // Checker
  case unknownName = "unknown-name"
  case unknownType = "unknown-type"
  case unknownNetwork = "unknown-network"
  case duplicateDefinition = "duplicate-definition"
  case duplicateUse = "duplicate-use"
  case typeMismatch = "type-mismatch"
  case invalidOperands = "invalid-operands"
  case ambiguousUnit = "ambiguous-unit"
  case argumentCount = "argument-count"
  case argumentLabel = "argument-label"
  case notCallable = "not-callable"
  case unknownProperty = "unknown-property"
  /// A method a canister's Candid interface does not have.
  case unknownMethod = "unknown-method"
  case subjectOutsideStep = "subject-outside-step"
  case optionalNotUnwrapped = "optional-not-unwrapped"
  case unknownAction = "unknown-action"
  case actionCannotConverge = "action-cannot-converge"
  case ensureShape = "ensure-shape"
  case actionArgument = "action-argument"
  case invalidParam = "invalid-param"
  case importNotFound = "import-not-found"
  case importCycle = "import-cycle"
  case importOutsideProject = "import-outside-project"
  case importContent = "import-content"
  case returnOutsideFunction = "return-outside-function"
  case missingReturn = "missing-return"
  case unusedBinding = "unused-binding"
  case unreachableCode = "unreachable-code"
  /// `x ?? default` where a check before has ruled out `none` (a warning).
  case redundantDefault = "redundant-default"
  case invalidNetworkFile = "invalid-network-file"
  case secretExposure = "secret-exposure"
  case misplacedStatement = "misplaced-statement"
  /// `check --base REF`: the runbook changed but its version did not go up.
  case versionNotIncreased = "version-not-increased"

  // Runtime (reported by the interpreter, not the checker)
  case runtimeError = "runtime-error"
  case assertionFailed = "assertion-failed"
  case ioError = "io-error"

  // Candid (`.did` files; exercised by the Candid tests, not by runbooks)
  case candidSyntax = "candid-syntax"
  case candidType = "candid-type"
  case candidImport = "candid-import"

  /// Codes that only the runtime or the command line produce; the static corpus does not cover them.
  /// `version-not-increased` needs a git history; the command-line tests cover it.
  /// `source-too-large` needs a file over 4 MiB, which the corpus does not keep; the hardening
  /// tests cover it.
  package static let notStatic: Set<DiagnosticCode> = [
    .runtimeError, .assertionFailed, .ioError, .versionNotIncreased, .sourceTooLarge,
  ]
  /// Reported on `.did` files.
  package static let candid: Set<DiagnosticCode> = [.candidSyntax, .candidType, .candidImport]
}
