// Command inv keeps a shop's stock right from the shell. See README.md.
package main

import (
	"os"

	"github.com/inv-cli/inv/cmd"
)

func main() { os.Exit(cmd.Main(os.Args[1:])) }
