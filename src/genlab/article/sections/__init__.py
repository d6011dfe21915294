"""One module per article section, each returning a report Section built from library pieces."""

#: The article's y-range for its figures of the quadratic data (y = 2x² + 1 on [0, 1]). Only the
#: article's own figures use it; the library's plots take their limits from the data they show.
ARTICLE_YLIM = (0.5, 3.5)
