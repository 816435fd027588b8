package main

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
)

// The Kubernetes-like workload. Everything here is a pure function of the
// seed: the generator keeps its own model of which objects exist, so the
// sequence of operations (keys, sizes, value seeds) does not depend on how
// fast the server answers. Values are rendered by the workers from each
// operation's own seed, so rendering runs in parallel and stays repeatable.

// OpKind is what one request does.
type OpKind uint8

const (
	OpCreate OpKind = iota // txn: if create_revision == 0 then put
	OpUpdate               // txn: if mod_revision == last seen then put (the apiserver's GuaranteedUpdate)
	OpDelete               // txn: if mod_revision == last seen then delete
	OpGet                  // range of one key
	OpList                 // range over /registry/<resource>/<namespace>/ with a limit
	numOpKinds
)

func (k OpKind) String() string {
	return [...]string{"create", "update", "delete", "get", "list"}[k]
}

// IsWrite says whether the op changes the keyspace.
func (k OpKind) IsWrite() bool { return k == OpCreate || k == OpUpdate || k == OpDelete }

// Resource is one kind of Kubernetes object.
type Resource struct {
	Name         string  // path segment after /registry/
	Namespaced   bool    // /registry/<r>/<ns>/<name> or /registry/<r>/<name>
	Share        float64 // relative share of creates
	MedianBytes  float64 // median value size (log-normal)
	Sigma        float64 // log-normal sigma of the value size
	UpdateWeight float64 // relative update rate per object
	DeleteWeight float64 // relative delete rate per object
	Namespace    string  // fixed namespace, if any (leases live in kube-node-lease)
}

// Resources: shares, sizes and churn chosen to look like a busy cluster
// (pods and their status dominate, events churn, leases heartbeat, a few
// configmaps are large). Values are 1 KiB to 100 KiB, mostly a few KiB.
var Resources = []Resource{
	{Name: "pods", Namespaced: true, Share: 36, MedianBytes: 4500, Sigma: 0.45, UpdateWeight: 3, DeleteWeight: 1},
	{Name: "events", Namespaced: true, Share: 18, MedianBytes: 1300, Sigma: 0.25, UpdateWeight: 0.6, DeleteWeight: 4},
	{Name: "configmaps", Namespaced: true, Share: 10, MedianBytes: 3000, Sigma: 1.3, UpdateWeight: 0.4, DeleteWeight: 0.3},
	{Name: "secrets", Namespaced: true, Share: 10, MedianBytes: 2200, Sigma: 0.7, UpdateWeight: 0.2, DeleteWeight: 0.3},
	{Name: "replicasets", Namespaced: true, Share: 7, MedianBytes: 3500, Sigma: 0.35, UpdateWeight: 0.5, DeleteWeight: 0.6},
	{Name: "endpointslices", Namespaced: true, Share: 6, MedianBytes: 2500, Sigma: 0.8, UpdateWeight: 2, DeleteWeight: 0.3},
	{Name: "deployments", Namespaced: true, Share: 5, MedianBytes: 4200, Sigma: 0.35, UpdateWeight: 1, DeleteWeight: 0.2},
	{Name: "services", Namespaced: true, Share: 4, MedianBytes: 1600, Sigma: 0.3, UpdateWeight: 0.2, DeleteWeight: 0.2},
	{Name: "leases", Namespaced: true, Share: 2, MedianBytes: 1100, Sigma: 0.1, UpdateWeight: 12, DeleteWeight: 0, Namespace: "kube-node-lease"},
	{Name: "minions", Namespaced: false, Share: 2, MedianBytes: 14000, Sigma: 0.3, UpdateWeight: 6, DeleteWeight: 0},
}

const (
	MinValueBytes = 1 << 10
	MaxValueBytes = 100 << 10
	ListLimit     = 100
)

// Mix is the share of each op kind in the update-heavy phase.
type Mix struct{ Create, Update, Delete, Get, List float64 }

// DefaultMix: updates dominate; creates outnumber deletes so the data grows.
var DefaultMix = Mix{Create: 0.25, Update: 0.55, Delete: 0.04, Get: 0.08, List: 0.08}

// Op is one request of the workload.
type Op struct {
	Seq      uint64
	Kind     OpKind
	Resource int    // index in Resources
	Key      string // object key, or the prefix of a list
	Size     int    // value bytes (create, update)
	Seed     uint64 // renders the value
	Phase    Phase
}

// Phase of the workload.
type Phase uint8

const (
	PhaseCreate Phase = iota // only creates, until CreateBytes of live data
	PhaseSteady              // the update-heavy mix
)

func (p Phase) String() string { return [...]string{"create", "steady"}[p] }

type object struct {
	key  string
	size int // base size; updates vary around it
}

// Generator produces the op sequence of one seed.
type Generator struct {
	rng         *rand.Rand
	seed        uint64
	mix         Mix
	createBytes int64 // live bytes (key+value) that end the create phase
	namespaces  []string
	nsWeights   []float64
	objs        [][]object // per resource, live objects
	index       map[string]int
	liveBytes   int64
	seq         uint64
	phase       Phase
	names       map[string]bool
}

// NewGenerator returns the generator of seed; the create phase lasts until
// the model's live key+value bytes reach createBytes.
func NewGenerator(seed uint64, createBytes int64, mix Mix) *Generator {
	g := &Generator{
		rng:         rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)),
		seed:        seed,
		mix:         mix,
		createBytes: createBytes,
		objs:        make([][]object, len(Resources)),
		index:       map[string]int{},
		names:       map[string]bool{},
	}
	g.namespaces = []string{"default", "kube-system", "kube-public", "monitoring", "ingress-nginx", "cert-manager"}
	for i := 0; len(g.namespaces) < 40; i++ {
		g.namespaces = append(g.namespaces, fmt.Sprintf("team-%s-%d", words[g.rng.IntN(len(words))], i))
	}
	// Zipf-like: a few namespaces hold most objects.
	for i := range g.namespaces {
		g.nsWeights = append(g.nsWeights, 1/math.Pow(float64(i+1), 0.8))
	}
	return g
}

// Phase is the phase the next op belongs to.
func (g *Generator) Phase() Phase { return g.phase }

// LiveBytes is the model's key+value bytes of existing objects.
func (g *Generator) LiveBytes() int64 { return g.liveBytes }

// Objects is the model's number of existing objects.
func (g *Generator) Objects() int {
	n := 0
	for _, o := range g.objs {
		n += len(o)
	}
	return n
}

func pickWeighted(rng *rand.Rand, w []float64) int {
	var sum float64
	for _, x := range w {
		sum += x
	}
	r := rng.Float64() * sum
	for i, x := range w {
		if r < x {
			return i
		}
		r -= x
	}
	return len(w) - 1
}

// SampleSize draws a value size of resource r (log-normal, clipped).
func SampleSize(rng *rand.Rand, r Resource) int {
	s := r.MedianBytes * math.Exp(r.Sigma*rng.NormFloat64())
	n := int(s)
	if n < MinValueBytes {
		n = MinValueBytes
	}
	if n > MaxValueBytes {
		n = MaxValueBytes
	}
	return n
}

const alnum = "bcdfghjklmnpqrstvwxz2456789"

func randString(rng *rand.Rand, alphabet string, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[rng.IntN(len(alphabet))]
	}
	return string(b)
}

func (g *Generator) newName(ri int) string {
	r := Resources[ri]
	app := words[g.rng.IntN(len(words))] + "-" + words[g.rng.IntN(len(words))]
	var name string
	switch r.Name {
	case "pods":
		name = app + "-" + randString(g.rng, alnum, 10) + "-" + randString(g.rng, alnum, 5)
	case "replicasets":
		name = app + "-" + randString(g.rng, alnum, 10)
	case "events":
		name = app + "-" + randString(g.rng, alnum, 5) + "." + strconv.FormatUint(g.rng.Uint64()>>12, 16)
	case "endpointslices":
		name = app + "-" + randString(g.rng, alnum, 5)
	case "leases", "minions":
		name = "node-" + strconv.Itoa(g.rng.IntN(1000000))
	default:
		name = app + "-" + randString(g.rng, alnum, 5)
	}
	return name
}

func (g *Generator) keyFor(ri int, name string) string {
	r := Resources[ri]
	if !r.Namespaced {
		return "/registry/" + r.Name + "/" + name
	}
	ns := r.Namespace
	if ns == "" {
		ns = g.namespaces[pickWeighted(g.rng, g.nsWeights)]
	}
	return "/registry/" + r.Name + "/" + ns + "/" + name
}

// Next returns the next op.
func (g *Generator) Next() Op {
	g.seq++
	op := Op{Seq: g.seq, Seed: g.rng.Uint64(), Phase: g.phase}
	if g.phase == PhaseCreate {
		op.Kind = OpCreate
	} else {
		m := g.mix
		op.Kind = OpKind(pickWeighted(g.rng, []float64{m.Create, m.Update, m.Delete, m.Get, m.List}))
	}
	switch op.Kind {
	case OpCreate:
		g.create(&op)
	case OpUpdate, OpDelete, OpGet:
		if !g.pickExisting(&op) {
			op.Kind = OpCreate
			g.create(&op)
		}
	case OpList:
		ri := g.pickResource(func(i int) float64 { return float64(len(g.objs[i])) + 0.01 })
		r := Resources[ri]
		op.Resource = ri
		switch {
		case !r.Namespaced:
			op.Key = "/registry/" + r.Name + "/"
		case r.Namespace != "":
			op.Key = "/registry/" + r.Name + "/" + r.Namespace + "/"
		default:
			op.Key = "/registry/" + r.Name + "/" + g.namespaces[pickWeighted(g.rng, g.nsWeights)] + "/"
		}
	}
	if g.phase == PhaseCreate && g.liveBytes >= g.createBytes {
		g.phase = PhaseSteady
	}
	return op
}

func (g *Generator) pickResource(weight func(i int) float64) int {
	w := make([]float64, len(Resources))
	for i := range Resources {
		w[i] = weight(i)
	}
	return pickWeighted(g.rng, w)
}

func (g *Generator) create(op *Op) {
	w := make([]float64, len(Resources))
	for i, r := range Resources {
		w[i] = r.Share
	}
	ri := pickWeighted(g.rng, w)
	var key string
	for tries := 0; ; tries++ {
		key = g.keyFor(ri, g.newName(ri))
		if !g.names[key] || tries > 100 {
			break
		}
	}
	size := SampleSize(g.rng, Resources[ri])
	op.Resource, op.Key, op.Size = ri, key, size
	if g.names[key] { // astronomically unlikely; keep the model consistent
		op.Kind = OpUpdate
		i := g.index[key]
		g.liveBytes += int64(size - g.objs[ri][i].size)
		g.objs[ri][i].size = size
		return
	}
	g.names[key] = true
	g.index[key] = len(g.objs[ri])
	g.objs[ri] = append(g.objs[ri], object{key: key, size: size})
	g.liveBytes += int64(len(key) + size)
}

func (g *Generator) pickExisting(op *Op) bool {
	var ri int
	switch op.Kind {
	case OpUpdate:
		ri = g.pickResource(func(i int) float64 { return float64(len(g.objs[i])) * Resources[i].UpdateWeight })
	case OpDelete:
		ri = g.pickResource(func(i int) float64 { return float64(len(g.objs[i])) * Resources[i].DeleteWeight })
	default:
		ri = g.pickResource(func(i int) float64 { return float64(len(g.objs[i])) })
	}
	if len(g.objs[ri]) == 0 {
		return false
	}
	i := g.rng.IntN(len(g.objs[ri]))
	o := g.objs[ri][i]
	op.Resource, op.Key = ri, o.key
	switch op.Kind {
	case OpUpdate:
		// status updates keep the object's size within ±10%
		size := int(float64(o.size) * (0.9 + 0.2*g.rng.Float64()))
		size = max(MinValueBytes, min(MaxValueBytes, size))
		op.Size = size
		g.liveBytes += int64(size - o.size)
		g.objs[ri][i].size = size
	case OpDelete:
		last := len(g.objs[ri]) - 1
		g.objs[ri][i] = g.objs[ri][last]
		g.index[g.objs[ri][i].key] = i
		g.objs[ri] = g.objs[ri][:last]
		delete(g.index, o.key)
		delete(g.names, o.key)
		g.liveBytes -= int64(len(o.key) + o.size)
	}
	return true
}

// RenderValue is the value of op: JSON-like text of a Kubernetes object of
// exactly op.Size bytes, made from templates with varying fields (names,
// labels, images, env, timestamps, uids), so it compresses about like real
// objects do (see TestCompressibility).
func RenderValue(op Op) []byte {
	rng := rand.New(rand.NewPCG(op.Seed, op.Seed^0x5851f42d4c957f2d))
	r := Resources[op.Resource]
	parts := strings.Split(op.Key, "/")
	name := parts[len(parts)-1]
	ns := ""
	if r.Namespaced && len(parts) >= 5 {
		ns = parts[3]
	}
	var b strings.Builder
	b.Grow(op.Size + 512)
	app := strings.Join(strings.Split(name, "-")[:min(2, len(strings.Split(name, "-")))], "-")
	fmt.Fprintf(&b, `{"kind":"%s","apiVersion":"v1","metadata":{"name":"%s","namespace":"%s","uid":"%s","resourceVersion":"%d","generation":%d,"creationTimestamp":"2026-%02d-%02dT%02d:%02d:%02dZ","labels":{"app.kubernetes.io/name":"%s","app.kubernetes.io/part-of":"%s","pod-template-hash":"%s"},"annotations":{"kubectl.kubernetes.io/last-applied-configuration":"","deployment.kubernetes.io/revision":"%d"}`,
		kindOf(r.Name), name, ns, uuid(rng), rng.Uint32(), rng.IntN(20)+1,
		rng.IntN(12)+1, rng.IntN(28)+1, rng.IntN(24), rng.IntN(60), rng.IntN(60),
		app, words[rng.IntN(len(words))], randString(rng, alnum, 10), rng.IntN(30))
	b.WriteString(`,"managedFields":[`)
	for i := 0; i < 2; i++ {
		fmt.Fprintf(&b, `{"manager":"%s","operation":"Update","apiVersion":"v1","time":"2026-11-%02dT%02d:%02d:%02dZ","fieldsType":"FieldsV1","fieldsV1":{"f:metadata":{"f:labels":{".":{},"f:app":{}}},"f:spec":{"f:containers":{"k:{\"name\":\"%s\"}":{".":{},"f:image":{},"f:imagePullPolicy":{},"f:resources":{}}}}}},`,
			managers[rng.IntN(len(managers))], rng.IntN(28)+1, rng.IntN(24), rng.IntN(60), rng.IntN(60), words[rng.IntN(len(words))])
	}
	b.WriteString(`{}]},"spec":{"containers":[`)
	// Containers, env and volume entries until the size is reached.
	for i := 0; b.Len() < op.Size-200; i++ {
		w := words[rng.IntN(len(words))]
		switch rng.IntN(4) {
		case 0, 1:
			fmt.Fprintf(&b, `{"name":"%s-%d","image":"registry.example.io/%s/%s:v%d.%d.%d","imagePullPolicy":"IfNotPresent","resources":{"requests":{"cpu":"%dm","memory":"%dMi"},"limits":{"cpu":"%dm","memory":"%dMi"}},"ports":[{"containerPort":%d,"protocol":"TCP"}],"terminationMessagePath":"/dev/termination-log"},`,
				w, i, words[rng.IntN(len(words))], w, rng.IntN(3), rng.IntN(30), rng.IntN(10),
				(rng.IntN(20)+1)*50, (rng.IntN(16)+1)*64, (rng.IntN(20)+1)*100, (rng.IntN(16)+1)*128, 8000+rng.IntN(1000))
		case 2:
			fmt.Fprintf(&b, `{"name":"%s_%s","value":"%s"},{"name":"POD_IP","valueFrom":{"fieldRef":{"fieldPath":"status.podIP"}}},`,
				strings.ToUpper(w), strings.ToUpper(words[rng.IntN(len(words))]), randValue(rng))
		default:
			fmt.Fprintf(&b, `{"type":"%s","status":"%s","lastProbeTime":null,"lastTransitionTime":"2026-11-%02dT%02d:%02d:%02dZ","reason":"%s","message":"container %s is %s"},`,
				conditions[rng.IntN(len(conditions))], []string{"True", "False"}[rng.IntN(2)], rng.IntN(28)+1, rng.IntN(24), rng.IntN(60), rng.IntN(60),
				reasons[rng.IntN(len(reasons))], w, reasons[rng.IntN(len(reasons))])
		}
	}
	fmt.Fprintf(&b, `{}]},"status":{"phase":"Running","hostIP":"10.%d.%d.%d","podIP":"10.%d.%d.%d","qosClass":"Burstable"}}`,
		rng.IntN(256), rng.IntN(256), rng.IntN(256), rng.IntN(256), rng.IntN(256), rng.IntN(256))
	out := []byte(b.String())
	for len(out) < op.Size {
		out = append(out, ' ')
	}
	return out[:op.Size]
}

func kindOf(resource string) string {
	switch resource {
	case "minions":
		return "Node"
	case "endpointslices":
		return "EndpointSlice"
	case "replicasets":
		return "ReplicaSet"
	case "configmaps":
		return "ConfigMap"
	}
	s := strings.TrimSuffix(resource, "s")
	return strings.ToUpper(s[:1]) + s[1:]
}

func uuid(rng *rand.Rand) string {
	const hex = "0123456789abcdef"
	b := make([]byte, 36)
	for i := range b {
		b[i] = hex[rng.IntN(16)]
	}
	b[8], b[13], b[18], b[23] = '-', '-', '-', '-'
	return string(b)
}

// randValue is an env value: sometimes a token-like random string (secrets,
// hashes: incompressible), mostly words and numbers.
func randValue(rng *rand.Rand) string {
	if rng.IntN(4) == 0 {
		return randString(rng, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/", 24+rng.IntN(24))
	}
	return words[rng.IntN(len(words))] + "." + words[rng.IntN(len(words))] + ".svc.cluster.local:" + strconv.Itoa(1000+rng.IntN(9000))
}

var managers = []string{"kube-controller-manager", "kubelet", "kubectl-client-side-apply", "helm", "argocd-controller", "kube-scheduler"}
var conditions = []string{"Initialized", "Ready", "ContainersReady", "PodScheduled", "Available", "Progressing"}
var reasons = []string{"Started", "Pulled", "Created", "Scheduled", "Killing", "BackOff", "Unhealthy", "SuccessfulCreate", "ScalingReplicaSet"}
var words = []string{
	"api", "web", "frontend", "backend", "worker", "cache", "redis", "postgres", "kafka", "zookeeper",
	"nginx", "envoy", "istio", "prometheus", "grafana", "loki", "tempo", "alertmanager", "node-exporter", "coredns",
	"metrics", "ingest", "billing", "search", "auth", "gateway", "payments", "orders", "catalog", "inventory",
	"shipping", "notify", "mailer", "scheduler", "batch", "cron", "etl", "spark", "flink", "airflow",
	"vault", "consul", "jaeger", "fluentd", "logstash", "elastic", "kibana", "minio", "harbor", "argocd",
}
