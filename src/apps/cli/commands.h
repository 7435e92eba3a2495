// pocket subcommands. Each returns the process exit code: 0 success, 1 bad input (one
// "error: <what>: <why>" line on stderr), 2 bad usage (spec cli-contract.md).
#pragma once

#include <string>

#include "base/status.h"

namespace pocket::cli {

constexpr int kExitOk = 0;
constexpr int kExitError = 1;
constexpr int kExitUsage = 2;

int RunInspect(int argc, char** argv);
int RunLogits(int argc, char** argv);
int RunTokenize(int argc, char** argv);
int RunDetokenize(int argc, char** argv);
int RunChatFormat(int argc, char** argv);
int RunParseOutput(int argc, char** argv);
int RunMakeTestModel(int argc, char** argv);
int RunRun(int argc, char** argv);
int RunChat(int argc, char** argv);
int RunBench(int argc, char** argv);
int RunServe(int argc, char** argv);
int RunPull(int argc, char** argv);
int RunEmbed(int argc, char** argv);

// Prints "error: <message>" and returns kExitError.
int ReportError(const Status& status);
int ReportUsage(const std::string& command, const std::string& message);

}  // namespace pocket::cli
