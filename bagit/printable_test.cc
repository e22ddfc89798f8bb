// bagit::Printable: what any text output does with a hostile file name.
#include <gtest/gtest.h>

#include "bagit/report.h"

namespace cairn::bagit {
namespace {

TEST(PrintableTest, KeepsPlainAndWellFormedUtf8Text) {
  EXPECT_EQ(Printable("data/a b.txt"), "data/a b.txt");
  EXPECT_EQ(Printable("data/caf\xc3\xa9/\xe6\x97\xa5\xf0\x9f\x93\x9c"),
            "data/caf\xc3\xa9/\xe6\x97\xa5\xf0\x9f\x93\x9c");
}

TEST(PrintableTest, EscapesControlCharactersSoNamesCannotSplitLinesOrDriveATerminal) {
  EXPECT_EQ(Printable("a\nb"), "a\\x0ab");
  EXPECT_EQ(Printable("\x1b[2Jx"), "\\x1b[2Jx");
  EXPECT_EQ(Printable(std::string_view("a\0b", 3)), "a\\x00b");
  EXPECT_EQ(Printable("\x7f"), "\\x7f");
  EXPECT_EQ(Printable("\xc2\x9b"), "\\xc2\\x9b");  // C1 CSI
}

TEST(PrintableTest, EscapesBytesThatAreNotWellFormedUtf8) {
  EXPECT_EQ(Printable("a\xff"
                      "b"),
            "a\\xffb");
  EXPECT_EQ(Printable("\xc3"), "\\xc3");                             // truncated sequence
  EXPECT_EQ(Printable("\xc0\xaf"), "\\xc0\\xaf");                    // overlong '/'
  EXPECT_EQ(Printable("\xed\xa0\x80"), "\\xed\\xa0\\x80");           // surrogate
  EXPECT_EQ(Printable("\xf4\x90\x80\x80"), "\\xf4\\x90\\x80\\x80");  // above U+10FFFF
}

}  // namespace
}  // namespace cairn::bagit
