package inventory

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"unicode"
)

// MaxQuantity bounds every stock level and delta. It keeps stock + delta far
// away from int64 overflow (and from SQLite's silent switch to floating point).
const MaxQuantity = 999_999_999_999

// QuantityError says why a quantity was refused; Reason is written so that it
// reads after the value ("value "1,200": has a thousands separator...").
type QuantityError struct {
	Value  string
	Reason string
}

func (e *QuantityError) Error() string { return fmt.Sprintf("quantity %q: %s", e.Value, e.Reason) }

// Is makes a QuantityError an ErrInvalid.
func (e *QuantityError) Is(target error) bool { return target == ErrInvalid }

// ParseQuantity reads a whole number the way spreadsheets and people write it:
// optional sign, digits, surrounding spaces, and a fraction of zeros only
// ("7.0", "7.00"). Thousands separators (including "1.000"), decimal commas,
// exponents, real fractions and empty strings are refused: guessing at
// "1,200" or "1.000" loses stock either way.
func ParseQuantity(s string) (int64, error) {
	t := strings.TrimSpace(s)
	fail := func(reason string) (int64, error) { return 0, &QuantityError{Value: s, Reason: reason} }
	if t == "" {
		return fail("empty; a whole number is required")
	}
	neg := false
	switch t[0] {
	case '+', '-':
		neg = t[0] == '-'
		t = t[1:]
	}
	intPart, frac, hasDot := strings.Cut(t, ".")
	if intPart == "" {
		return fail("not a whole number")
	}
	var n int64
	for i := 0; i < len(intPart); i++ {
		c := intPart[i]
		if c < '0' || c > '9' {
			switch {
			case c == ',' || c == '\'' || c == ' ' || c == '_':
				return fail("not a whole number: no thousands separators or decimal commas")
			case c == 'e' || c == 'E':
				return fail("not a whole number: no exponents")
			default:
				return fail("not a whole number")
			}
		}
		if n > (MaxQuantity-int64(c-'0'))/10 {
			return fail(fmt.Sprintf("too large (at most %d)", int64(MaxQuantity)))
		}
		n = n*10 + int64(c-'0')
	}
	if hasDot {
		if frac == "" {
			return fail("not a whole number")
		}
		if len(frac) == 3 && strings.Trim(frac, "0") == "" {
			// "1.000" is one thousand in much of Europe, and 1.000 to a
			// spreadsheet: guessing loses stock either way.
			return fail("looks like a thousands separator (1.000 is 1000 in some countries, 1 in others): write the number without separators")
		}
		for i := 0; i < len(frac); i++ {
			switch c := frac[i]; {
			case c == '0':
			case c >= '1' && c <= '9':
				return fail("has a fraction; stock is counted in whole units")
			case c == 'e' || c == 'E':
				return fail("not a whole number: no exponents")
			default:
				return fail("not a whole number")
			}
		}
	}
	if neg {
		n = -n
	}
	return n, nil
}

// ParseDelta reads a signed change such as "+20", "-5" or "20".
func ParseDelta(s string) (int64, error) { return ParseQuantity(s) }

// SKUKey is the form SKUs are compared and made unique in: surrounding white
// space removed, case folded. The SKU itself is kept as first written.
func SKUKey(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// CleanSKU trims a SKU and checks it is usable. The empty string means "no SKU".
func CleanSKU(s string) (string, error) {
	t := strings.TrimSpace(s)
	if len(t) > 255 {
		return "", Invalidf("SKU %q is longer than 255 characters", s)
	}
	for _, r := range t {
		if unicode.IsControl(r) {
			return "", Invalidf("SKU %q contains a control character", s)
		}
	}
	return t, nil
}

// ValidateBarcode checks a UPC-A, EAN-8, EAN-13 or GTIN-14 barcode: digits only,
// one of those lengths, and a valid GS1 check digit. The barcode stays a string
// so leading zeros survive.
func ValidateBarcode(s string) error {
	switch len(s) {
	case 8, 12, 13, 14:
	default:
		return Invalidf("barcode %q must have 8, 12, 13 or 14 digits (EAN-8, UPC-A, EAN-13, GTIN-14), it has %d characters", s, len(s))
	}
	sum := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return Invalidf("barcode %q must contain digits only", s)
		}
		if i == len(s)-1 {
			break
		}
		// GS1: weights alternate 3,1,3,... counting from the digit next to the check digit.
		w := 1
		if (len(s)-2-i)%2 == 0 {
			w = 3
		}
		sum += int(c-'0') * w
	}
	want := (10 - sum%10) % 10
	if got := int(s[len(s)-1] - '0'); got != want {
		return Invalidf("barcode %q has check digit %d, expected %d: check for a typo", s, got, want)
	}
	return nil
}

var priceRE = regexp.MustCompile(`^[0-9]+(\.[0-9]+)?$`)

// ParsePrice returns the canonical decimal string of a price: at least two
// decimals ("29" -> "29.00"), never a float. Negative prices are refused.
func ParsePrice(s string) (string, error) {
	t := strings.TrimSpace(s)
	if !priceRE.MatchString(t) {
		return "", Invalidf("price %q is not a decimal number such as 19.99 (no currency signs or thousands separators)", s)
	}
	intPart, frac, _ := strings.Cut(t, ".")
	intPart = strings.TrimLeft(intPart, "0")
	if intPart == "" {
		intPart = "0"
	}
	if len(intPart) > 15 {
		return "", Invalidf("price %q is too large", s)
	}
	for len(frac) > 2 && strings.HasSuffix(frac, "0") {
		frac = frac[:len(frac)-1]
	}
	for len(frac) < 2 {
		frac += "0"
	}
	return intPart + "." + frac, nil
}

var slugRE = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)

// ValidateSlug checks the API's slug pattern.
func ValidateSlug(s string) error {
	if !slugRE.MatchString(s) || len(s) > 255 {
		return Invalidf("slug %q must be lower-case letters and digits separated by single hyphens, such as limited-edition-sneakers", s)
	}
	return nil
}

// Slugify derives a slug from a title: "Limited Edition Sneakers" ->
// "limited-edition-sneakers". Letters outside ASCII are dropped; a title with
// nothing left gives "product".
func Slugify(title string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(title) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			dash = false
			b.WriteRune(r)
		default:
			dash = true
		}
		if b.Len() >= 200 {
			break
		}
	}
	if b.Len() == 0 {
		return "product"
	}
	return b.String()
}

// ValidateTitle checks the API's 1-255 character rule.
func ValidateTitle(t string) error {
	n := len([]rune(strings.TrimSpace(t)))
	if n == 0 {
		return Invalidf("title is required")
	}
	if n > 255 {
		return Invalidf("title is %d characters long; at most 255 are allowed", n)
	}
	for _, r := range t {
		if unicode.IsControl(r) {
			// Tabs, newlines and escape sequences would break tables, TSV
			// pipelines and terminals downstream.
			return Invalidf("title %q contains a control character (tab, newline, escape…)", t)
		}
	}
	return nil
}

// Statuses a product can be given. "deleted" is reached only by delete.
var Statuses = []string{"draft", "published", "archived"}

// ValidateStatus checks a status given by a user.
func ValidateStatus(s string) error {
	for _, v := range Statuses {
		if s == v {
			return nil
		}
	}
	return Invalidf("status %q must be one of draft, published, archived", s)
}

// ParseBool reads the yes/no spellings found in catalogue files.
func ParseBool(s string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "true", "yes", "y", "1":
		return true, nil
	case "false", "no", "n", "0":
		return false, nil
	}
	return false, errors.New("not one of true/false/yes/no/1/0")
}
