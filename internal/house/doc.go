// Package house holds no code: its test checks the module's import rules, the package table
// of ARCHITECTURE.md, on every source file whatever its build tags.
package house
