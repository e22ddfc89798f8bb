// Crash points: named places at the boundaries of durable steps (an object
// made visible on a site, a catalog transaction committed) where a test can
// have the process killed with SIGKILL, to prove that every command survives
// `kill -9` at any of them (issue 7, "Crash consistency").
//
// Test hooks (repo/test_hooks.h): only a build with CAIRN_TEST_HOOKS (the
// tests, the cairn-testing binary) has them; in the shipped cairn CrashPoint
// does nothing and reads no environment variable. With the hooks, off unless
// the environment asks for it (one getenv at the first call):
//   CAIRN_CRASH_AT=NAME:N   SIGKILL at the N-th hit (1-based) of point NAME;
//                           NAME "*" counts the hits of every point together.
//   CAIRN_CRASH_TRACE=FILE  appends the name of every point hit, one a line,
//                           so a test can count the points a command passes.
// Points so far: storage.before-visible / storage.after-visible (posix
// writer commit, around the link/rename), catalog.before-commit /
// catalog.after-commit (every SQLite transaction), upload.part-received (a part of a
// resumable upload received by cairn serve, before it is recorded), site.remove.committed /
// site.remove.settings-written (`cairn site remove`: its catalog transaction committed; the
// remaining sites' settings written, its event not yet copied to their logs).
#ifndef CAIRN_REPO_CRASH_POINT_H_
#define CAIRN_REPO_CRASH_POINT_H_

#include <atomic>
#include <string_view>

namespace cairn::repo {

// Records a hit of point `name` and kills the process with SIGKILL if the
// environment chose this hit. Thread-safe; costs one atomic load when off.
void CrashPoint(std::string_view name);

// A place where a command stops at its next safe point once `until` is set (a deposit's
// SIGINT/SIGTERM flag), so that a test can send the signal there. With the hooks and
//   CAIRN_PAUSE_AT=NAME:FILE   at the first hit of point NAME, FILE is created and the calling
//                              thread waits until `until` is set (at most 60 s);
// otherwise, and in the shipped cairn, it does nothing. Points so far: deposit.file-stored (a
// payload file stored on the first site), deposit.before-commit (every file stored and checked,
// before the version is committed), deposit.committed (the catalog commit done, before the
// copies to the other sites).
void PausePoint(std::string_view name, const std::atomic<bool>* until);

// Tests only (defined only with the hooks): `hook` is called with the name of every point hit, in
// the thread that hits it, before the environment's choice is looked at (nullptr: no hook). The
// power-loss tests (tests/hostile/power_loss_test.cc) cut power from it. Install it before the work
// starts and remove it after.
using CrashPointHook = void (*)(std::string_view name);
void SetCrashPointHookForTesting(CrashPointHook hook);

}  // namespace cairn::repo

#endif  // CAIRN_REPO_CRASH_POINT_H_
