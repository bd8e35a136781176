package csvio_test

import (
	"bytes"
	"io"
	"strconv"
	"sync"
	"testing"

	"github.com/inv-cli/inv/internal/csvio"
)

const benchRows = 1_000_000

var benchFile = sync.OnceValue(func() []byte {
	// A 3PL-style report: ";" and a BOM, some quoted cells, a realistic width.
	var b bytes.Buffer
	b.WriteString("\uFEFFItem Number;Description;On Hand;Allocated;Available;Location\r\n")
	num := make([]byte, 0, 16)
	for i := range benchRows {
		b.WriteString("SKU-")
		num = strconv.AppendInt(num[:0], int64(i), 10)
		b.Write(num)
		if i%10 == 0 {
			b.WriteString(";\"Mug; blue, 350 ml\";")
		} else {
			b.WriteString(";Ceramic mug;")
		}
		num = strconv.AppendInt(num[:0], int64(i%500), 10)
		b.Write(num)
		b.WriteString(";2;")
		b.Write(num)
		b.WriteString(";DC-EAST\r\n")
	}
	return b.Bytes()
})

// BenchmarkStockReader1M reads a 1,000,000-row stock file (held in memory,
// so the disk is not measured), hashing it as the importer does.
func BenchmarkStockReader1M(b *testing.B) {
	data := benchFile()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	rows := 0
	for b.Loop() {
		r, err := csvio.NewStockReader(bytes.NewReader(data), csvio.StockOptions{})
		if err != nil {
			b.Fatal(err)
		}
		rows = 0
		for {
			_, err := r.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			rows++
		}
		if r.Hash() == "" {
			b.Fatal("no hash")
		}
	}
	if rows != benchRows {
		b.Fatalf("read %d rows, want %d", rows, benchRows)
	}
	b.ReportMetric(float64(rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}
