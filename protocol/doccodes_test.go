package protocol

import (
	"os"
	"regexp"
	"strconv"
	"testing"
)

// TestDocCodesMatchCodes: every CRVIDEOSDK_ name the docs and the README use
// and the headers use is a code of Codes, and wherever a doc writes a number beside a name
// ("8 (CRVIDEOSDK_SERVER_EXCEPTION)", "`CRVIDEOSDK_NOT_INIT` (11)",
// "lineOff(6) (CRVIDEOSDK_ERR_DATA)") the number is that code's.
func TestDocCodesMatchCodes(t *testing.T) {
	byName := map[string]int{}
	for _, c := range Codes {
		byName[c.Name] = c.Code
	}
	name := regexp.MustCompile(`CRVIDEOSDK_[A-Z0-9_]*[A-Z0-9]`)
	sep := "[*`\\s()]*"
	numName := regexp.MustCompile(`\b([0-9]{1,4})` + sep + `(CRVIDEOSDK_[A-Z0-9_]*[A-Z0-9])`)
	nameNum := regexp.MustCompile(`(CRVIDEOSDK_[A-Z0-9_]*[A-Z0-9])` + "[`]?\\)?" + `\s*\(([0-9]{1,4})\)`)
	checked := 0
	for _, path := range []string{"../README.md", "../docs/protocol.md", "../docs/SECURITY.md", "../docs/capi.md", "../docs/BENCHMARKS.md", "../include/crvideomgr.h", "../include/CloudroomVideoMgr.h"} {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		text := string(b)
		for _, n := range name.FindAllString(text, -1) {
			if _, ok := byName[n]; !ok && n != "CRVIDEOSDK_ERR_DEF" && n != "CRVIDEOSDK_CUSTOMAUTH" {
				t.Errorf("%s: %s is not an error code", path, n)
			}
		}
		check := func(num, n string) {
			code, ok := byName[n]
			if !ok {
				return
			}
			checked++
			if v, _ := strconv.Atoi(num); v != code {
				t.Errorf("%s: %s beside %s, which is %d", path, num, n, code)
			}
		}
		for _, m := range numName.FindAllStringSubmatch(text, -1) {
			check(m[1], m[2])
		}
		for _, m := range nameNum.FindAllStringSubmatch(text, -1) {
			check(m[2], m[1])
		}
	}
	if checked < 5 {
		t.Fatalf("only %d number–name pairs found: the parse is broken", checked)
	}
}
