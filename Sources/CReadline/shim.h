// The system's GNU readline (libreadline-dev), for the REPL's line editing.
#include <stdio.h>
#include <readline/readline.h>
#include <readline/history.h>
