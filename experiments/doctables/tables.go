package main

import (
	"encoding/json"
	"maps"
	"os"
	"slices"
)

// A generator makes a table's Markdown from the results directory and the
// arguments of its opening comment.
type generator func(results string, args map[string]string) (string, error)

var generators = map[string]generator{
	"scale-large":    scaleLarge,
	"scale-sizes":    scaleSizes,
	"thesis-stages":  thesisStages,
	"thesis-clients": thesisClients,
	"scale-profile":  scaleProfile,
	"profile-bound":  profileBound,
	"whole-cost":     wholeCost,
	"profile-shares": profileShares,
}

func generatorNames() []string { return slices.Sorted(maps.Keys(generators)) }

func readJSON(path string, v any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}
