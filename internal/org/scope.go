// Package org owns the reference data: regions, CCGs, practices, suppliers
// and the catalogue; the seed that loads it from the shipped public files;
// and the importer of ODS practice files that keeps practices current.
package org

// Scope says which CCGs a reader may see. The zero Scope sees none, so a
// caller that forgets to set one is denied, never shown everything.
type Scope struct {
	all bool
	ccg string
}

// AllCCGs is the scope of reviewers, finance and admins.
func AllCCGs() Scope { return Scope{all: true} }

// OnlyCCG is the scope of a buyer: their own CCG and nothing else.
func OnlyCCG(code string) Scope { return Scope{ccg: code} }

// Allows reports whether the scope includes the CCG.
func (s Scope) Allows(ccgCode string) bool {
	return s.all || (s.ccg != "" && s.ccg == ccgCode)
}

// SQLArgs returns the two query arguments every scoped query takes:
// ($n::bool all, $n+1::text ccg), used as "($1 OR ccg_code = $2)".
func (s Scope) SQLArgs() (bool, string) { return s.all, s.ccg }
