/** How one source column becomes model inputs; stored with the model so scoring encodes exactly as training did. */
export type ColumnSpec =
  | {
      kind: 'numeric';
      name: string;
      /** Stands in for a missing value (the training median). */
      median: number;
      /** Whether training saw missing values, and so has a `name (missing)` indicator input. */
      missingIndicator: boolean;
    }
  | {
      kind: 'categorical';
      name: string;
      /** Levels with their own input, most frequent first; `(blank)` is a level like any other. */
      levels: string[];
      /** Whether rare levels were pooled into an `(other)` input, which unseen levels then join. */
      other: boolean;
    };

export interface IgnoredColumn {
  name: string;
  reason: string;
}

export interface FeatureSpec {
  columns: ColumnSpec[];
  /** Columns seen in training that the model does not use, and why. */
  ignored: IgnoredColumn[];
  /** Things a user should know about the data (text in numeric columns, pooled levels…). */
  warnings: string[];
  /** Input names, in encoding order: `column`, `column (missing)`, `column=level`. */
  inputs: string[];
  /** For each input, the index of the column in `columns` it comes from. */
  inputColumn: number[];
}
