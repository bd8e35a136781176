package inventory_test

import (
	"strconv"
	"strings"
	"testing"

	"github.com/inv-cli/inv/internal/inventory"
)

// FuzzParseQuantity checks ParseQuantity against a plain description of what
// it accepts: optional surrounding white space, an optional sign, digits, and
// optionally "." followed by zeros only. For accepted input the value is the
// integer part, within ±MaxQuantity, and its decimal form parses back to it.
func FuzzParseQuantity(f *testing.F) {
	for _, s := range []string{
		"0", "7", "+20", "-5", " 42 ", "\t7.0\n", "7.00", "-0", "+0.0", "00012",
		"999999999999", "-999999999999", "1000000000000", "9223372036854775807", "-9223372036854775808",
		"1,200", "13,75", "1e3", "1E3", "7.5", "7.05", "7.", ".5", ".", "", " ", "+", "-", "--1", "+-1",
		"1 000", "1_000", "1'000", "٣", "１２", "0x10", "7.0e0", "NaN", "Inf", "1\x00",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := inventory.ParseQuantity(s)
		ok := wellFormed(s)
		if err != nil {
			if ok && fitsMax(s) {
				t.Fatalf("ParseQuantity(%q) refused a well-formed quantity: %v", s, err)
			}
			return
		}
		if !ok {
			t.Fatalf("ParseQuantity(%q) = %d, but it is not sign, digits and a zero fraction", s, n)
		}
		if n > inventory.MaxQuantity || n < -inventory.MaxQuantity {
			t.Fatalf("ParseQuantity(%q) = %d, beyond ±%d", s, n, int64(inventory.MaxQuantity))
		}
		t2 := strings.TrimSpace(s)
		intPart, frac, _ := strings.Cut(t2, ".")
		if strings.Trim(frac, "0") != "" {
			t.Fatalf("ParseQuantity(%q) = %d despite a non-zero fraction digit", s, n)
		}
		want, perr := strconv.ParseInt(intPart, 10, 64)
		if perr != nil || want != n {
			t.Fatalf("ParseQuantity(%q) = %d, want %d", s, n, want)
		}
		back, err := inventory.ParseQuantity(strconv.FormatInt(n, 10))
		if err != nil || back != n {
			t.Fatalf("ParseQuantity(FormatInt(%d)) = %d, %v", n, back, err)
		}
	})
}

// wellFormed: white space, [+-], digits, optionally "." and zeros, white space.
func wellFormed(s string) bool {
	t := strings.TrimSpace(s)
	if t != "" && (t[0] == '+' || t[0] == '-') {
		t = t[1:]
	}
	intPart, frac, hasDot := strings.Cut(t, ".")
	if intPart == "" || strings.Trim(intPart, "0123456789") != "" {
		return false
	}
	// Exactly three zeros ("1.000") read as a thousands separator: refused.
	return !hasDot || frac != "" && strings.Trim(frac, "0") == "" && len(frac) != 3
}

// fitsMax: the integer part of a well-formed quantity is within MaxQuantity.
func fitsMax(s string) bool {
	t := strings.TrimLeft(strings.TrimSpace(s), "+-")
	intPart, _, _ := strings.Cut(t, ".")
	n, err := strconv.ParseInt(intPart, 10, 64)
	return err == nil && n <= inventory.MaxQuantity
}
