"""Tables of measures that read well at any width: plain names, short cells, meanings in a glossary."""

import streamlit as st


def measures_table(records: list[dict[str, str]], key: str) -> None:
    """A table whose first column (``measure``) stays pinned; every other cell is a short number."""
    if not records:
        return
    columns = {"measure": st.column_config.TextColumn("measure", pinned=True, width="medium")}
    for name in records[0]:
        if name != "measure":
            columns[name] = st.column_config.TextColumn(name, width="small")
    st.dataframe(records, hide_index=True, width="stretch", height="content", column_config=columns, key=key)


def glossary(entries: list[tuple[str, str]], title: str = "What each measure means") -> None:
    """The meanings as a wrapped list under a table (closed until opened)."""
    with st.expander(title):
        st.markdown("\n".join(f"- **{name}**: {meaning}" for name, meaning in entries))
