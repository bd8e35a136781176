package csvio

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"strings"

	"github.com/inv-cli/inv/internal/inventory"
)

// maxCartBytes bounds what a cart file may hold; a storefront cart is tiny.
const maxCartBytes = 16 << 20

// ReadCart reads a cart: the storefront's JSON shape
// {"items":[{"productId":"prod_…","quantity":2},{"sku":"MUG-BLU","quantity":1}]}
// (a bare array of items is accepted too), or a CSV with sku and quantity
// columns. A quantity that is not a whole number above zero is kept on its
// line as QuantityErr: the line is reported, not the whole file refused.
func ReadCart(r io.Reader) ([]inventory.CartLine, error) {
	b, err := io.ReadAll(io.LimitReader(r, maxCartBytes+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxCartBytes {
		return nil, inventory.Invalidf("the cart is larger than %d MiB", maxCartBytes>>20)
	}
	b = bytes.TrimPrefix(b, []byte("\xEF\xBB\xBF"))
	t := bytes.TrimSpace(b)
	if len(t) == 0 {
		return nil, inventory.Invalidf("the cart is empty")
	}
	if t[0] == '{' || t[0] == '[' {
		return readCartJSON(t)
	}
	return readCartCSV(b)
}

type jsonCartLine struct {
	ProductID *string         `json:"productId"`
	SKU       *string         `json:"sku"`
	Quantity  json.RawMessage `json:"quantity"`
	UnitPrice json.RawMessage `json:"unitPrice"`
}

func readCartJSON(b []byte) ([]inventory.CartLine, error) {
	var items []jsonCartLine
	if b[0] == '[' {
		if err := json.Unmarshal(b, &items); err != nil {
			return nil, inventory.Invalidf("the cart is not valid JSON: %v", err)
		}
	} else {
		var cart struct {
			Items *[]jsonCartLine `json:"items"`
		}
		if err := json.Unmarshal(b, &cart); err != nil {
			return nil, inventory.Invalidf("the cart is not valid JSON: %v", err)
		}
		if cart.Items == nil {
			return nil, inventory.Invalidf(`the cart has no "items" array: expected {"items":[{"productId":"…","quantity":1}]}`)
		}
		items = *cart.Items
	}
	if len(items) == 0 {
		return nil, inventory.Invalidf("the cart has no items")
	}
	lines := make([]inventory.CartLine, 0, len(items))
	for i, it := range items {
		var l inventory.CartLine
		switch {
		case it.ProductID != nil && strings.TrimSpace(*it.ProductID) != "":
			l.ProductID = strings.TrimSpace(*it.ProductID)
		case it.SKU != nil && strings.TrimSpace(*it.SKU) != "":
			l.SKU = strings.TrimSpace(*it.SKU)
		default:
			return nil, inventory.Invalidf("cart item %d names no product: give \"productId\" or \"sku\"", i+1)
		}
		q := strings.Trim(strings.TrimSpace(string(it.Quantity)), `"`)
		if len(it.Quantity) == 0 || q == "null" {
			return nil, inventory.Invalidf("cart item %d (%s) has no \"quantity\"", i+1, l.Ref())
		}
		n, err := inventory.ParseCartQuantity(q)
		if err != nil {
			l.QuantityErr = err.Error()
		}
		l.Quantity = n
		if p := strings.Trim(strings.TrimSpace(string(it.UnitPrice)), `"`); p != "" && p != "null" {
			l.UnitPrice = p
		}
		lines = append(lines, l)
	}
	return lines, nil
}

// A cart's product column: the stock files' SKU names, or a product id.
var cartSKUAliases = append(stockSKUAliases[:len(stockSKUAliases):len(stockSKUAliases)], aliases("product id")...)

func readCartCSV(b []byte) ([]inventory.CartLine, error) {
	src, err := openSource(bufio.NewReader(bytes.NewReader(b)), 0)
	if err != nil {
		return nil, err
	}
	norm := normalizeAll(src.header)
	skuIdx := findAlias(norm, cartSKUAliases)
	qtyIdx := findAlias(norm, aliases("quantity", "qty", "count"))
	if skuIdx < 0 || qtyIdx < 0 {
		return nil, inventory.Invalidf("a cart CSV needs a sku and a quantity column; its columns are %s", quoteList(src.header))
	}
	var lines []inventory.CartLine
	for {
		rec, err := src.csv.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, readError(err)
		}
		cell := func(i int) string {
			if i < len(rec) {
				return strings.TrimSpace(rec[i])
			}
			return ""
		}
		ref := cell(skuIdx)
		if ref == "" {
			continue
		}
		l := inventory.CartLine{SKU: ref}
		if strings.HasPrefix(ref, "prod_") {
			l = inventory.CartLine{ProductID: ref}
		}
		n, err := inventory.ParseCartQuantity(cell(qtyIdx))
		if err != nil {
			l.QuantityErr = err.Error()
		}
		l.Quantity = n
		lines = append(lines, l)
	}
	if len(lines) == 0 {
		return nil, inventory.Invalidf("the cart has no lines")
	}
	return lines, nil
}
