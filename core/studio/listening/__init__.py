"""The "Bach or bot?" listening test: rounds of real/generated pairs (:mod:`.pairs`), the answers'
SQLite store (:mod:`.store`), each listener's order and sides (:mod:`.plan`) and the class results
(:mod:`.results`)."""
