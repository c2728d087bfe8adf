// Package paging turns a page number from a query string into LIMIT and
// OFFSET, and back into the links a paged list shows.
package paging

import "strconv"

// Page is one page of a list: Number counts from 1.
type Page struct {
	Number int
	Size   int
}

// Parse reads a page number ("2"), falling back to the first page on
// anything that is not a positive number.
func Parse(s string, size int) Page {
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > 1_000_000 {
		n = 1
	}
	return Page{Number: n, Size: size}
}

// Offset is the number of rows before this page.
func (p Page) Offset() int { return (p.Number - 1) * p.Size }

// Result is one page of rows with the total they were drawn from.
type Result[T any] struct {
	Rows  []T
	Total int
	Page  Page
}

// Pages is how many pages the total fills (at least 1).
func (r Result[T]) Pages() int {
	if r.Total == 0 || r.Page.Size == 0 {
		return 1
	}
	return (r.Total + r.Page.Size - 1) / r.Page.Size
}

// HasPrev reports whether a page comes before this one.
func (r Result[T]) HasPrev() bool { return r.Page.Number > 1 }

// HasNext reports whether a page comes after this one.
func (r Result[T]) HasNext() bool { return r.Page.Number < r.Pages() }

// First is the 1-based position of the first row shown (0 when empty).
func (r Result[T]) First() int {
	if len(r.Rows) == 0 {
		return 0
	}
	return r.Page.Offset() + 1
}

// Last is the 1-based position of the last row shown.
func (r Result[T]) Last() int { return r.Page.Offset() + len(r.Rows) }
