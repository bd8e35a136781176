package csvio_test

import (
	"strings"
	"testing"

	"github.com/inv-cli/inv/internal/csvio"
)

// FuzzReadCart: any input either is refused or gives lines that name a
// product and carry a positive quantity or the reason it has none.
func FuzzReadCart(f *testing.F) {
	for _, s := range []string{
		`{"items":[{"productId":"prod_1","quantity":2},{"sku":"MUG-BLU","quantity":"3"}]}`,
		`[{"sku":"A","quantity":1}]`,
		`{"items":[{"sku":"A","quantity":2.5}]}`,
		`{"items":[]}`,
		"sku,quantity\nA,1\nB,x\n",
		"\xEF\xBB\xBFsku;qty\nA;2\n",
		`{"items":[{"sku":"A"}]}`,
		`{`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		lines, err := csvio.ReadCart(strings.NewReader(in))
		if err != nil {
			return
		}
		if len(lines) == 0 {
			t.Fatalf("no error and no lines for %q", in)
		}
		for i, l := range lines {
			if strings.TrimSpace(l.Ref()) == "" {
				t.Fatalf("line %d names no product: %+v", i, l)
			}
			if l.QuantityErr == "" && l.Quantity <= 0 {
				t.Fatalf("line %d: quantity %d without a reason: %+v", i, l.Quantity, l)
			}
		}
	})
}
