// Package tutorial holds the code of docs/tutorial.md as Example
// functions, so every snippet of the tutorial compiles and runs under
// `go test`, and a test checks that the tutorial quotes them verbatim.
package tutorial
