/**
 * One section of the tracker (a `##` heading of the seed tracker): collapsible, with its groups
 * and items in the manifest's order, and "Check my work" for the assignments it covers.
 */
import React from 'react';

import { TrackerModel } from '../model';
import { AssignmentInfo, Section, sectionItems } from '../tokens';
import { ITrackerActions } from './actions';
import { CheckMyWork } from './CheckMyWork';
import { CaretIcon, splitTitle } from './icons';
import { InlineMarkdown } from './InlineMarkdown';
import { ItemRow } from './ItemRow';

export interface ISectionViewProps {
  model: TrackerModel;
  section: Section;
  assignments: AssignmentInfo[];
  actions: ITrackerActions;
  textDelay: number;
}

export function SectionView(props: ISectionViewProps): JSX.Element {
  const { model, section, assignments, actions, textDelay } = props;
  const collapsed = model.isCollapsed(section.id);
  const items = sectionItems(section);
  // What the header's summary counts (the server says which): steps done, never fields filled in
  // (text), totals (derived) or self-assessments where every answer is as good as another.
  const countable = items.filter(item => item.counted);
  const satisfied = countable.filter(item => model.itemState(item.id)?.satisfied).length;
  const bodyId = `jp-CourseTracker-section-${section.id}`;
  const title = splitTitle(section.title);
  return (
    <section className="jp-CourseTracker-section" data-section-id={section.id}>
      <button
        className="jp-CourseTracker-sectionHeader"
        aria-expanded={!collapsed}
        aria-controls={bodyId}
        onClick={() => model.toggleCollapsed(section.id)}
      >
        <CaretIcon open={!collapsed} />
        <span className="jp-CourseTracker-sectionTitle" title={section.title}>
          <InlineMarkdown text={title.text} />
        </span>
        {title.note && <span className="jp-CourseTracker-sectionNote">{title.note}</span>}
        {countable.length > 0 && (
          <span className="jp-CourseTracker-sectionCount">
            {satisfied}/{countable.length}
          </span>
        )}
      </button>
      {!collapsed && (
        <div className="jp-CourseTracker-sectionBody" id={bodyId}>
          {/* First in the section, so the button and its progress are seen without scrolling. */}
          {assignments.map(assignment => (
            <CheckMyWork
              key={assignment.id}
              model={model}
              assignment={assignment}
              actions={actions}
            />
          ))}
          {section.groups.map(group => (
            <div className="jp-CourseTracker-group" key={group.id} data-group-id={group.id}>
              {group.title && (
                <h4 className="jp-CourseTracker-groupTitle">
                  <InlineMarkdown text={group.title} />
                </h4>
              )}
              <ul className="jp-CourseTracker-items">
                {group.items.map(item => (
                  <ItemRow
                    key={item.id}
                    model={model}
                    def={item}
                    actions={actions}
                    textDelay={textDelay}
                  />
                ))}
              </ul>
            </div>
          ))}
        </div>
      )}
    </section>
  );
}
