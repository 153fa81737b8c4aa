# Homebrew formula for rbic: `brew install your-org/rbic/rbic` after
# `brew tap your-org/rbic https://github.com/your-org/rbic` (this repository is the tap).
# It builds the tagged release from source with the Swift of Xcode or its command-line tools
# (Homebrew's way for Swift tools; no checksum to update, the tag pins the source). The version is
# Rbic.version (Sources/rbic/Rbic.swift); the tests check that this tag says the same.
# Checked here with `ruby -c` only: Homebrew and macOS are not on the machine it was written on.
class Rbic < Formula
  desc "Typed runbooks for Internet Computer operations"
  homepage "https://github.com/your-org/rbic"
  url "https://github.com/your-org/rbic.git", tag: "v0.4.0"
  license "Apache-2.0"
  head "https://github.com/your-org/rbic.git", branch: "main"

  depends_on xcode: ["16.0", :build]
  depends_on macos: :sequoia

  uses_from_macos "curl"
  uses_from_macos "libedit" # provides the readline API on macOS

  def install
    system "swift", "build", "--disable-sandbox", "--configuration", "release", "--product", "rbic"
    bin.install ".build/release/rbic"
  end

  test do
    assert_match "rbic #{version}", shell_output("#{bin}/rbic --version")
    (testpath/"hello.rb.ic").write <<~RBIC
      runbook "hello" version 1
      print 1T + 500B
    RBIC
    system bin/"rbic", "check", testpath/"hello.rb.ic"
    assert_match "1.5T", shell_output("#{bin}/rbic run #{testpath}/hello.rb.ic --journal #{testpath}/runs")
  end
end
