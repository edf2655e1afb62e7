/**
 * Renders the little Markdown the tracker's item texts use — **bold**, `code` and [links](url) —
 * as React elements. Never sets innerHTML, so item text from a manifest cannot inject markup.
 */
import React from 'react';

const TOKEN = /(\*\*[^*]+\*\*|`[^`]+`|\[[^\]]+\]\([^)\s]+\))/g;
const LINK = /^\[([^\]]+)\]\(([^)\s]+)\)$/;

/** Only web links become anchors; anything else (javascript:, data:) stays plain text. */
function isSafeUrl(url: string): boolean {
  return /^https?:\/\//i.test(url);
}

export function InlineMarkdown({ text }: { text: string }): JSX.Element {
  const parts = text.split(TOKEN).filter(part => part !== '');
  return (
    <>
      {parts.map((part, index) => {
        if (part.startsWith('**') && part.endsWith('**') && part.length > 4) {
          return <strong key={index}>{part.slice(2, -2)}</strong>;
        }
        if (part.startsWith('`') && part.endsWith('`') && part.length > 2) {
          return <code key={index}>{part.slice(1, -1)}</code>;
        }
        const link = LINK.exec(part);
        if (link && isSafeUrl(link[2])) {
          return (
            <a key={index} href={link[2]} target="_blank" rel="noopener noreferrer">
              {link[1]}
            </a>
          );
        }
        return <React.Fragment key={index}>{link ? link[1] : part}</React.Fragment>;
      })}
    </>
  );
}
