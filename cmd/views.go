package cmd

import (
	"fmt"
	"strconv"

	"github.com/inv-cli/inv/internal/inventory"
	"github.com/inv-cli/inv/internal/output"
)

func str(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

func i64(n int64) string { return strconv.FormatInt(n, 10) }

func threshold(p *int64) string {
	if p == nil {
		return ""
	}
	return i64(*p)
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func signed(n int64) string {
	if n > 0 {
		return "+" + i64(n)
	}
	return i64(n)
}

// stockState says where a product stands against its alert rule.
func stockState(p inventory.Product) string {
	switch {
	case !p.TrackStock:
		return "untracked"
	case p.Stock <= 0:
		return "out"
	case p.IsLow():
		return "low"
	}
	return "ok"
}

func productTable(ps []inventory.Product) output.Table {
	t := output.Table{
		Header: []string{"sku", "title", "stock", "available", "threshold", "state", "status", "price", "id"},
		Right:  []bool{false, false, true, true, true, false, false, true, false},
	}
	for _, p := range ps {
		t.Rows = append(t.Rows, []string{str(p.SKU), p.Title, i64(p.Stock), i64(p.Available), threshold(p.LowStockThreshold),
			stockState(p), p.Status, p.Price, p.ID})
	}
	return t
}

func productFields(p inventory.Product) [][2]string {
	return [][2]string{
		{"id", p.ID}, {"sku", str(p.SKU)}, {"title", p.Title}, {"slug", p.Slug}, {"status", p.Status},
		{"price", p.Price}, {"compareAtPrice", str(p.CompareAtPrice)}, {"barcode", str(p.Barcode)},
		{"trackStock", fmt.Sprint(p.TrackStock)}, {"stock", i64(p.Stock)}, {"reserved", i64(p.Reserved)},
		{"available", i64(p.Available)}, {"lowStockThreshold", threshold(p.LowStockThreshold)},
		{"allowBackorder", fmt.Sprint(p.AllowBackorder)}, {"createdAt", p.CreatedAt.String()}, {"updatedAt", p.UpdatedAt.String()},
	}
}

// stockChangeView is the JSON of a set or adjust.
type stockChangeView struct {
	SKU      string            `json:"sku"`
	Before   int64             `json:"before"`
	Delta    int64             `json:"delta"`
	After    int64             `json:"after"`
	Changed  bool              `json:"changed"`
	Clamped  bool              `json:"clamped"`
	Replayed bool              `json:"replayed"`
	Product  inventory.Product `json:"product"`
}

func stockChangeTable(v stockChangeView) output.Table {
	return output.Table{
		Header: []string{"sku", "before", "delta", "after"},
		Right:  []bool{false, true, true, true},
		Rows:   [][]string{{v.SKU, i64(v.Before), signed(v.Delta), i64(v.After)}},
	}
}

func movementTable(ms []inventory.Movement) output.Table {
	t := output.Table{
		Header: []string{"time", "delta", "stock", "reason", "source", "actor", "ref"},
		Right:  []bool{false, true, true, false, false, false, false},
	}
	for _, m := range ms {
		t.Rows = append(t.Rows, []string{m.CreatedAt.String(), signed(m.Delta), i64(m.StockAfter), m.Reason, m.Source, m.Actor, m.Ref})
	}
	return t
}
