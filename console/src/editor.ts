/**
 * The SQL editor: CodeMirror 6 (bundled by the console's in-memory esbuild build, like uPlot)
 * with SQL highlighting and completion of the dataset's table and column names. The editable
 * element is labelled by the field's <label> (aria-labelledby), so it is found and read like the
 * textarea it replaces.
 */
import { autocompletion, closeBrackets, completionKeymap } from '@codemirror/autocomplete';
import { defaultKeymap, history, historyKeymap } from '@codemirror/commands';
import { PostgreSQL, sql } from '@codemirror/lang-sql';
import { defaultHighlightStyle, syntaxHighlighting } from '@codemirror/language';
import { Compartment, EditorState } from '@codemirror/state';
import { EditorView, keymap, placeholder } from '@codemirror/view';

export interface SqlEditor {
  readonly element: HTMLElement;
  value(): string;
  setValue(text: string): void;
  /** Insert at the cursor (replacing the selection) and focus. */
  insert(text: string): void;
  /** Table → column names, for completion. */
  setSchema(schema: Record<string, string[]>): void;
  focus(): void;
}

export function sqlEditor(options: { id: string; labelledBy: string; describedBy?: string; onChange: () => void; onRun: () => void }): SqlEditor {
  const language = new Compartment();
  const host = document.createElement('div');
  host.className = 'sql-editor';
  host.id = options.id;
  const lang = (schema: Record<string, string[]>) => sql({ dialect: PostgreSQL, schema, upperCaseKeywords: true });
  const view = new EditorView({
    parent: host,
    state: EditorState.create({
      doc: '',
      extensions: [
        history(),
        closeBrackets(),
        // No interaction delay: a key right after the list opens acts on it, however fast it comes.
        autocompletion({ activateOnTyping: true, interactionDelay: 0 }),
        syntaxHighlighting(defaultHighlightStyle),
        language.of(lang({})),
        placeholder('SELECT region, COUNT(*) FROM visits GROUP BY region'),
        EditorView.lineWrapping,
        EditorView.contentAttributes.of({
          'aria-labelledby': options.labelledBy,
          ...(options.describedBy === undefined ? {} : { 'aria-describedby': options.describedBy }),
          'aria-multiline': 'true',
          role: 'textbox',
          spellcheck: 'false',
          autocapitalize: 'off',
        }),
        keymap.of([{ key: 'Mod-Enter', run: () => (options.onRun(), true) }, ...completionKeymap, ...historyKeymap, ...defaultKeymap]),
        EditorView.updateListener.of((u) => {
          if (u.docChanged) options.onChange();
        }),
      ],
    }),
  });
  return {
    element: host,
    value: () => view.state.doc.toString(),
    setValue(text) {
      view.dispatch({ changes: { from: 0, to: view.state.doc.length, insert: text } });
    },
    insert(text) {
      const { from, to } = view.state.selection.main;
      view.dispatch({ changes: { from, to, insert: text }, selection: { anchor: from + text.length } });
      view.focus();
    },
    setSchema(schema) {
      view.dispatch({ effects: language.reconfigure(lang(schema)) });
    },
    focus: () => view.focus(),
  };
}
