package recsys

// IDMap maps external identifiers (user names, item IDs as text) to dense indices 0..Len()-1
// in order of first appearance, and back.
type IDMap struct {
	ids   []string
	index map[string]int32
}

// NewIDMap returns an empty map.
func NewIDMap() *IDMap { return &IDMap{index: map[string]int32{}} }

// Add returns the index of id, assigning the next free one when id is new.
func (m *IDMap) Add(id string) int32 {
	if i, ok := m.index[id]; ok {
		return i
	}
	i := int32(len(m.ids))
	m.ids = append(m.ids, id)
	m.index[id] = i
	return i
}

// Index returns the index of id and whether it is known.
func (m *IDMap) Index(id string) (int32, bool) {
	i, ok := m.index[id]
	return i, ok
}

// ID returns the identifier at index i, or "" when i is out of range.
func (m *IDMap) ID(i int32) string {
	if i < 0 || int(i) >= len(m.ids) {
		return ""
	}
	return m.ids[i]
}

// Len is the number of identifiers.
func (m *IDMap) Len() int { return len(m.ids) }

// IDs returns the identifiers in index order; the caller must not modify it.
func (m *IDMap) IDs() []string { return m.ids }
